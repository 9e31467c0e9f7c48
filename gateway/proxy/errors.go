package proxy

import (
	"errors"
	"fmt"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// Errors the gateway itself produces; package edge maps each to its HTTP status.
var (
	// ErrNoInstances: discovery knows no passing instance (503).
	ErrNoInstances = errors.New("no instances of the service are available")
	// ErrAllBreakersOpen: every known instance's breaker is open (503).
	ErrAllBreakersOpen = errors.New("every instance's circuit breaker is open")
	// ErrBudgetExhausted: the total time budget of the request ran out (504).
	ErrBudgetExhausted = errors.New("the request's time budget ran out")
)

// errTryTimeout is the cause of a single attempt's deadline: it counts against the instance.
var errTryTimeout = errors.New("attempt timed out")

// errBreakerOpen marks an instance the breaker refused without sending anything: the balancer
// moves on to the next instance and does not count an attempt.
var errBreakerOpen = errors.New("breaker open")

// AttemptsError is returned when every attempt failed (502).
type AttemptsError struct {
	Attempts int
	Last     error
}

func (e *AttemptsError) Error() string {
	return fmt.Sprintf("all %d attempts failed; last: %v", e.Attempts, e.Last)
}

func (e *AttemptsError) Unwrap() error { return e.Last }

// FailureKind names the kind of a request's failure, the kind label of Metrics.Failures:
// no_instances, breakers_open, budget_exhausted, attempts_failed or other. An instance's 4xx is
// the request's answer, not a failure of the gateway: its kind is "".
func FailureKind(err error) string {
	var se *contract.StatusError
	var ae *AttemptsError
	switch {
	case err == nil, errors.As(err, &se) && se.IsClientError():
		return ""
	case errors.Is(err, ErrNoInstances):
		return "no_instances"
	case errors.Is(err, ErrAllBreakersOpen):
		return "breakers_open"
	case errors.Is(err, ErrBudgetExhausted):
		return "budget_exhausted"
	case errors.As(err, &ae):
		return "attempts_failed"
	default:
		return "other"
	}
}
