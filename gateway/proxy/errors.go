package proxy

import (
	"errors"
	"fmt"
)

// Errors the gateway itself produces; package edge maps each to its HTTP status.
var (
	// ErrNoInstances: discovery knows no passing instance (503).
	ErrNoInstances = errors.New("no instances of the service are available")
	// ErrAllBreakersOpen: every known instance's breaker is open (503).
	ErrAllBreakersOpen = errors.New("every instance's circuit breaker is open")
	// ErrBudgetExhausted: the total time budget of the request ran out (504).
	ErrBudgetExhausted = errors.New("the request's time budget ran out")
	// ErrShed: the service is at its concurrency limit and the request could not be admitted
	// within its budget (503 with Retry-After).
	ErrShed = errors.New("the service is at its concurrency limit; retry later")
)

// errTryTimeout is the cause of a single attempt's deadline: it counts against the instance.
var errTryTimeout = errors.New("attempt timed out")

// errBreakerOpen: a member's endpoint refused an attempt without sending anything.
var errBreakerOpen = errors.New("breaker open")

// AttemptsError is returned when every attempt failed: 503 when none can have reached an
// instance (Delivered false: the request was not processed, a client may send it again), else 502.
type AttemptsError struct {
	Attempts int
	Last     error
	// BudgetDenied: the route's retry budget refused a further attempt.
	BudgetDenied bool
	// Delivered: some attempt may have reached its instance.
	Delivered bool
}

func (e *AttemptsError) Error() string {
	if e.BudgetDenied {
		return fmt.Sprintf("%d attempts failed and the retry budget allows no more; last: %v", e.Attempts, e.Last)
	}
	return fmt.Sprintf("all %d attempts failed; last: %v", e.Attempts, e.Last)
}

func (e *AttemptsError) Unwrap() error { return e.Last }

// Failure is the kind of a request's failure: the kind label of Metrics.Failures, and what
// package edge answers it with.
type Failure string

// The kinds of Failure. None is not a failure of the gateway: no error, or an instance's 4xx
// (the request's answer).
const (
	None            Failure = ""
	NoInstances     Failure = "no_instances"     // ErrNoInstances
	BreakersOpen    Failure = "breakers_open"    // ErrAllBreakersOpen
	BudgetExhausted Failure = "budget_exhausted" // ErrBudgetExhausted
	Shed            Failure = "shed"             // ErrShed
	Unreachable     Failure = "unreachable"      // *AttemptsError, no attempt delivered
	AttemptsFailed  Failure = "attempts_failed"  // *AttemptsError
	Other           Failure = "other"
)

// failureKinds are every kind of Failure but None.
var failureKinds = []Failure{NoInstances, BreakersOpen, BudgetExhausted, Shed, Unreachable, AttemptsFailed, Other}

// FailureKind returns the kind of err, an error of a route's endpoint.
func FailureKind(err error) Failure {
	if err == nil {
		return None
	}
	ae := attemptsError(err)
	switch {
	case isClientError(err):
		return None
	case errors.Is(err, ErrNoInstances):
		return NoInstances
	case errors.Is(err, ErrAllBreakersOpen):
		return BreakersOpen
	case errors.Is(err, ErrBudgetExhausted):
		return BudgetExhausted
	case errors.Is(err, ErrShed):
		return Shed
	case ae != nil && !ae.Delivered:
		return Unreachable
	case ae != nil:
		return AttemptsFailed
	default:
		return Other
	}
}

// attemptsError returns the *AttemptsError in err's chain, or nil (a helper, so that FailureKind
// allocates errors.As's target only for an error).
func attemptsError(err error) *AttemptsError {
	var ae *AttemptsError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}
