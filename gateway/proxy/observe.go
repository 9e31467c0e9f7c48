package proxy

import (
	"context"
	"errors"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// Attempt outcomes, the values of Metrics.Attempts' outcome label.
const (
	outcomeOK          = "ok"
	outcomeClientError = "client_error" // the instance answered 4xx: the request's fault
	outcomeServerError = "server_error" // the instance answered 5xx
	outcomeTimeout     = "timeout"      // the attempt's own timeout (RetryPolicy.TryTimeout)
	outcomeTransport   = "transport"    // no answer: refused, reset, unreadable
	outcomeCanceled    = "canceled"     // the request's budget ran out or its caller went away
)

var outcomes = []string{outcomeOK, outcomeClientError, outcomeServerError, outcomeTimeout, outcomeTransport, outcomeCanceled}

// observing is the endpoint middleware that records each attempt on one instance endpoint: in
// the metrics (count by outcome, duration) and in its state for the status page (attempts, and
// the failures that count against its breaker, with the last one's message).
func observing(st *endpointState, m Metrics) endpoint.Middleware {
	duration := m.AttemptDuration.With("route", st.route, "instance", st.instance)
	attempts := make(map[string]metrics.Counter, len(outcomes)) // With once, not per attempt
	for _, outcome := range outcomes {
		attempts[outcome] = m.Attempts.With("route", st.route, "instance", st.instance, "outcome", outcome)
	}
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			begin := time.Now()
			response, err := next(ctx, request)
			duration.Observe(time.Since(begin).Seconds())
			attempts[attemptOutcome(ctx, err)].Add(1)
			st.attempts.Add(1)
			if counted := breakerOutcome(ctx, err); counted != nil && !errors.Is(counted, errExcluded) {
				st.failed(err)
			}
			return response, err
		}
	}
}

// attemptOutcome classifies an attempt's result for the metrics.
func attemptOutcome(ctx context.Context, err error) string {
	var se *contract.StatusError
	switch {
	case err == nil:
		return outcomeOK
	case errors.As(err, &se) && se.IsClientError():
		return outcomeClientError
	case errors.As(err, &se):
		return outcomeServerError
	case errors.Is(context.Cause(ctx), errTryTimeout):
		return outcomeTimeout
	case ctx.Err() != nil:
		return outcomeCanceled
	default:
		return outcomeTransport
	}
}
