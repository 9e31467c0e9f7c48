package proxy

import (
	"context"
	"errors"
	"sync"
	"time"
)

// deadlineContext is a context with a deadline and its cause over values that nothing cancels:
// the request's budget (ErrBudgetExhausted), when the request's own context cannot be canceled
// (the edge's never is: fasthttp does not tell a handler that its client went away), and each
// attempt's (errTryTimeout, or ErrBudgetExhausted when the budget ends first), over the request's
// values without its cancellation (an attempt that lost to a hedge runs on to its own end, and
// its outcome still counts for its instance: see RetryPolicy.Hedge).
//
// It behaves as context.WithDeadlineCause(values, deadline, cause) does, but starts no timer
// until something asks for Done: on the path of a request that is admitted at once nothing does
// (the instance client hands the deadline to its connection, classify asks Err, which reads the
// clock, and the retrier's one timer covers the budget). The timers, timerCtxs and channels of
// the budget and of the attempts were a fifth of the request path's allocations and two
// timer-heap insertions and removals per request.
type deadlineContext struct {
	values   context.Context // Done returns nil: nothing cancels them
	deadline time.Time
	cause    error

	mu   sync.Mutex
	done chan struct{} // nil until Done or an expired Err; then closed at the deadline
}

// closedChan is the Done of an deadlineContext whose deadline had passed when it was asked.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *deadlineContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineContext) Value(key any) any { return c.values.Value(key) }

// Done returns a channel closed at the deadline; the first call starts its timer.
func (c *deadlineContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if left := time.Until(c.deadline); left <= 0 {
			c.done = closedChan
		} else {
			done := make(chan struct{})
			c.done = done
			time.AfterFunc(left, func() { close(done) })
		}
	}
	return c.done
}

// Err is context.DeadlineExceeded once the deadline has passed (once Done, if it was asked for,
// is closed), else nil.
func (c *deadlineContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		select {
		case <-c.done:
			return context.DeadlineExceeded
		default:
			return nil
		}
	}
	if time.Now().Before(c.deadline) {
		return nil
	}
	c.done = closedChan // from now on Done agrees
	return context.DeadlineExceeded
}

// causeOf returns the cause of ctx's end, or nil if it has not ended: context.Cause for contexts
// of the standard library, the deadline's cause for a deadlineContext (context.Cause knows only
// its own).
func causeOf(ctx context.Context) error {
	if c, ok := ctx.(*deadlineContext); ok {
		if c.Err() != nil {
			return c.cause
		}
		return nil
	}
	return context.Cause(ctx)
}

// endedWith reports whether ctx ended with cause target.
func endedWith(ctx context.Context, target error) bool {
	return errors.Is(causeOf(ctx), target)
}
