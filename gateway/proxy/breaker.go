package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/hashicorp/go-hclog"
	"github.com/sony/gobreaker/v2"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// BreakerSettings configures each instance's circuit breaker.
type BreakerSettings struct {
	// Failures is how many consecutive failures open the breaker.
	Failures uint32
	// Open is how long the breaker stays open before it lets one probe request through.
	Open time.Duration
}

// errExcluded marks an outcome that says nothing about the instance (the caller gave up or the
// request's total budget ran out): the breaker counts it neither way.
var errExcluded = errors.New("outcome excluded from breaker counts")

// newBreaker returns the breaker of one instance endpoint (gobreaker v2; go-kit's circuitbreaker
// package supports only gobreaker v1). Each state change is logged at warn and counted in
// m.BreakerTransitions.
func newBreaker(route, instance string, s BreakerSettings, m Metrics, logger hclog.Logger) *gobreaker.TwoStepCircuitBreaker[any] {
	return gobreaker.NewTwoStepCircuitBreaker[any](gobreaker.Settings{
		Name:        route + "@" + instance,
		MaxRequests: 1,
		Timeout:     s.Open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.Failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			logger.Warn("circuit breaker state changed", "breaker", name, "from", from.String(), "to", to.String())
			m.BreakerTransitions.With("route", route, "instance", instance, "from", from.String(), "to", to.String()).Add(1)
		},
	})
}

// breaking is the endpoint middleware of breaker cb: while it is open, requests are refused with
// errBreakerOpen without reaching next. Transport errors, attempt timeouts and 5xx count as
// failures; a 4xx is the instance working correctly and counts as a success.
func breaking(cb *gobreaker.TwoStepCircuitBreaker[any]) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			done, err := cb.Allow()
			if err != nil {
				return nil, fmt.Errorf("%s: %w (%w)", cb.Name(), errBreakerOpen, err)
			}
			response, err := next(ctx, request)
			done(breakerOutcome(ctx, err))
			return response, err
		}
	}
}

// breakerOutcome classifies an attempt's error for the breaker: nil is a success, errExcluded is
// not counted, anything else is a failure.
func breakerOutcome(ctx context.Context, err error) error {
	var se *contract.StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.IsClientError():
		return nil
	case ctx.Err() != nil && !errors.Is(context.Cause(ctx), errTryTimeout):
		return errExcluded
	default:
		return err
	}
}
