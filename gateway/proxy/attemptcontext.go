package proxy

import (
	"context"
	"errors"
	"sync"
	"time"
)

// attemptContext is one attempt's context: the request's values without its cancellation (an
// attempt that lost to a hedge runs on to its own end, and its outcome still counts for its
// instance: see RetryPolicy.Hedge) and the attempt's own deadline, with its cause: errTryTimeout,
// or ErrBudgetExhausted when the request's budget ends first.
//
// It behaves as context.WithDeadlineCause(values, deadline, cause) does, but starts no timer
// until something asks for Done: nothing on an attempt's path does (the instance client hands
// the deadline to its connection, and classify asks Err, which reads the clock). That timer, the
// allocations of a timerCtx and its channel were a fifth of the request path's allocations and a
// timer-heap insertion and removal per attempt.
type attemptContext struct {
	values   context.Context // the request's, through context.WithoutCancel
	deadline time.Time
	cause    error

	mu   sync.Mutex
	done chan struct{} // nil until Done or an expired Err; then closed at the deadline
}

// closedChan is the Done of an attemptContext whose deadline had passed when it was asked.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *attemptContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *attemptContext) Value(key any) any { return c.values.Value(key) }

// Done returns a channel closed at the deadline; the first call starts its timer.
func (c *attemptContext) Done() <-chan struct{} {
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
func (c *attemptContext) Err() error {
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

// expiredCause returns the cause of ctx's end, an attempt's context, or nil if it has not ended:
// context.Cause for contexts of the standard library, the deadline's cause for an attemptContext
// (context.Cause knows only its own).
func expiredCause(ctx context.Context) error {
	if c, ok := ctx.(*attemptContext); ok {
		if c.Err() != nil {
			return c.cause
		}
		return nil
	}
	return context.Cause(ctx)
}

// endedWith reports whether ctx ended with cause target.
func endedWith(ctx context.Context, target error) bool {
	return errors.Is(expiredCause(ctx), target)
}
