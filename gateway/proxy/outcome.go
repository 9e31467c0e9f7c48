package proxy

import (
	"context"
	"errors"
)

// outcome is what became of one attempt on one instance. It is decided once, here, and read
// by the metrics (its label), the breaker (counted against the instance or not) and the retry
// loop (worth another instance or not).
type outcome int

const (
	outcomeOK          outcome = iota
	outcomeClientError         // the instance answered 4xx: the request's own fault
	outcomeServerError         // the instance answered 5xx
	outcomeTimeout             // the attempt's own timeout (RetryPolicy.TryTimeout)
	outcomeTransport           // no answer: refused, reset, unreadable
	outcomeNotSent             // the gateway's own limit (its connection pool) kept the request from leaving
	outcomeCanceled            // the request's budget ran out, its caller went away, or a hedge won
)

var outcomeNames = [...]string{"ok", "client_error", "server_error", "timeout", "transport", "not_sent", "canceled"}

func (o outcome) String() string { return outcomeNames[o] }

// excluded: the attempt says nothing about the instance, either way: it never left the gateway,
// or it was cut short by the request's budget.
func (o outcome) excluded() bool { return o == outcomeCanceled || o == outcomeNotSent }

// countsAgainstInstance: a failure of the instance itself. Canceled and not-sent attempts say
// nothing about it; a 4xx is the instance working as it should.
func (o outcome) countsAgainstInstance() bool {
	return o == outcomeServerError || o == outcomeTimeout || o == outcomeTransport
}

// NotSent is implemented by errors of an instance's client endpoint that mean the request never
// left the gateway (package upstream: its pool for the instance had no free connection in time).
// Such an attempt is retried elsewhere but never counts against the instance: the limit was
// the gateway's own.
type NotSent interface{ NotSent() bool }

// NotDelivered is implemented by errors of an instance's client endpoint that mean the request
// cannot have reached the instance: no connection to it could be made, or none was free in
// time. A route that is not idempotent retries only such attempts (RetryPolicy.Idempotent).
type NotDelivered interface{ NotDelivered() bool }

// StatusCoder is implemented by the error of an instance's answer outside 2xx (go-kit's
// httptransport.StatusCoder): a 4xx is the request's answer, a 5xx the instance's failure.
type StatusCoder interface{ StatusCode() int }

// isClientError reports whether err is an instance's 4xx answer: the request's own fault, passed
// back to the client as it came.
func isClientError(err error) bool {
	code, ok := statusCode(err)
	return ok && clientErrorStatus(code)
}

// clientErrorStatus: a 4xx, the request's own fault.
func clientErrorStatus(code int) bool { return code >= 400 && code < 500 }

// statusCode returns the status of an instance's answer outside 2xx that err carries, if any.
// (errors.As's target escapes to the heap: each of these helpers allocates only when called,
// so that an attempt without an error allocates nothing here.)
func statusCode(err error) (int, bool) {
	var sc StatusCoder
	if errors.As(err, &sc) {
		return sc.StatusCode(), true
	}
	return 0, false
}

// notSent reports whether err says the attempt never left the gateway.
func notSent(err error) bool {
	var ns NotSent
	return errors.As(err, &ns) && ns.NotSent()
}

// delivered reports whether an attempt that ended with err may have reached its instance.
func delivered(err error) bool {
	var nd NotDelivered
	return !errors.As(err, &nd) || !nd.NotDelivered()
}

// classify decides the outcome of an attempt that ended with err under ctx, the attempt's context.
func classify(ctx context.Context, err error) outcome {
	if err == nil {
		return outcomeOK
	}
	code, answered := statusCode(err)
	switch {
	case answered && clientErrorStatus(code):
		return outcomeClientError
	case answered:
		return outcomeServerError
	case endedWith(ctx, errTryTimeout):
		return outcomeTimeout
	case ctx.Err() != nil:
		return outcomeCanceled
	case notSent(err):
		return outcomeNotSent
	default:
		return outcomeTransport
	}
}
