package proxy

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// An attempt's context behaves as context.WithDeadlineCause over context.WithoutCancel: the
// request's values, not its cancellation, and its own deadline and cause, whether Done was asked
// for before the deadline, after it, or never.
func TestAttemptContextIsTheRequestsValuesUnderItsOwnDeadline(t *testing.T) {
	request, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "id-1"))
	values := context.WithoutCancel(request)
	cancel() // the request is over: an attempt that lost to a hedge runs on

	for _, askDone := range []string{"before", "after", "never"} {
		c := &deadlineContext{values: values, deadline: time.Now().Add(50 * time.Millisecond), cause: errTryTimeout}
		if got := c.Value(ctxKey{}); got != "id-1" {
			t.Fatalf("Value = %v, want the request's id-1", got)
		}
		if d, ok := c.Deadline(); !ok || !d.Equal(c.deadline) {
			t.Fatalf("Deadline = %v %v, want %v", d, ok, c.deadline)
		}
		if c.Err() != nil || causeOf(c) != nil {
			t.Fatalf("Err = %v, cause %v before the deadline: the request's cancellation leaked in", c.Err(), causeOf(c))
		}
		var done <-chan struct{}
		if askDone == "before" {
			done = c.Done()
		}
		select {
		case <-done: // nil unless asked: blocks
			t.Fatal("Done closed before the deadline")
		case <-time.After(time.Until(c.deadline) - 20*time.Millisecond):
		}
		time.Sleep(time.Until(c.deadline)) // the deadline itself, not an event to poll for
		if askDone == "after" {
			done = c.Done()
		}
		if done != nil {
			select {
			case <-done:
			case <-time.After(time.Second):
				t.Fatalf("Done (asked %s the deadline) not closed a second after it", askDone)
			}
		}
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("Err after the deadline (Done asked %s) = %v, want DeadlineExceeded", askDone, c.Err())
		}
		if !endedWith(c, errTryTimeout) {
			t.Errorf("cause after the deadline = %v, want errTryTimeout", causeOf(c))
		}
		select {
		case <-c.Done(): // once Err says so, Done is closed too
		default:
			t.Errorf("Done not closed although Err = %v", c.Err())
		}
	}
}

// classify tells the attempt's own timeout (it counts against the instance) from the request's
// budget running out first (it does not).
func TestClassifyTellsTryTimeoutFromBudget(t *testing.T) {
	past := time.Now().Add(-time.Millisecond)
	err := errors.New("deadline exceeded")
	if got := classify(&deadlineContext{values: context.Background(), deadline: past, cause: errTryTimeout}, err); got != outcomeTimeout {
		t.Errorf("try timeout classified %v, want timeout", got)
	}
	if got := classify(&deadlineContext{values: context.Background(), deadline: past, cause: ErrBudgetExhausted}, err); got != outcomeCanceled {
		t.Errorf("budget classified %v, want canceled", got)
	}
	if got := classify(&deadlineContext{values: context.Background(), deadline: time.Now().Add(time.Hour), cause: errTryTimeout}, err); got != outcomeTransport {
		t.Errorf("error before the deadline classified %v, want transport", got)
	}
}
