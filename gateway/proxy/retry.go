package proxy

import (
	"context"
	"errors"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// RetryPolicy bounds the attempts of one request. Both routes are idempotent reads of their input,
// so any attempt that failed without a 4xx answer may be repeated on another instance.
type RetryPolicy struct {
	// Attempts is the most instances one request is sent to.
	Attempts int
	// TryTimeout bounds each attempt; a timed-out attempt counts against that instance's breaker.
	TryTimeout time.Duration
	// Budget bounds the whole request, all attempts included.
	Budget time.Duration
}

// retrying returns an endpoint that sends a request to the instances of balancer in turn until one
// answers, skipping instances whose breaker is open without spending an attempt on them. A 4xx is
// the answer and is never retried. go-kit's lb.Retry has only a total deadline, not the per-attempt
// one needed to get past an instance that accepts connections but never answers.
// Every attempt after the first is counted in retries.
func retrying(policy RetryPolicy, balancer *roundRobin, retries metrics.Counter) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		ctx, cancel := context.WithTimeoutCause(ctx, policy.Budget, ErrBudgetExhausted)
		defer cancel()
		ring, start, err := balancer.ring()
		if err != nil {
			return nil, err
		}
		attempts, lastErr := 0, error(nil)
		// Each place in the ring is visited at most Attempts times, which bounds the loop when
		// every breaker is open.
		for visit := 0; attempts < policy.Attempts && visit < len(ring)*policy.Attempts; visit++ {
			response, err := attempt(ctx, policy.TryTimeout, ring[(start+visit)%len(ring)], request)
			if attempts > 0 && !errors.Is(err, errBreakerOpen) {
				retries.Add(1)
			}
			switch {
			case err == nil:
				return response, nil
			case errors.Is(err, errBreakerOpen):
				continue
			}
			attempts, lastErr = attempts+1, err
			if ctx.Err() != nil {
				return nil, context.Cause(ctx) // the budget ran out, or the caller went away
			}
			if !retryable(err) {
				return nil, err
			}
		}
		if attempts == 0 {
			return nil, ErrAllBreakersOpen
		}
		return nil, &AttemptsError{Attempts: attempts, Last: lastErr}
	}
}

// attempt calls one instance endpoint under the per-attempt timeout.
func attempt(ctx context.Context, timeout time.Duration, ep endpoint.Endpoint, request any) (any, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTryTimeout)
	defer cancel()
	return ep(ctx, request)
}

// retryable reports whether another instance could answer where this one failed: everything but
// an instance's 4xx, which is the request's own fault.
func retryable(err error) bool {
	var se *contract.StatusError
	return !(errors.As(err, &se) && se.IsClientError())
}
