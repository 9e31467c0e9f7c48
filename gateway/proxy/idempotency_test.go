package proxy

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// undelivered is an attempt that cannot have reached its instance (a refused connection).
type undelivered struct{}

func (undelivered) Error() string      { return "connection refused" }
func (undelivered) NotDelivered() bool { return true }

var notIdempotent = RetryPolicy{Attempts: 3, TryTimeout: time.Second, Budget: 5 * time.Second, Hedge: true, HedgeMinDelay: time.Millisecond}

func TestNotIdempotentRouteIsNotRetriedAfterItReachedAnInstance(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	route, _ := newTestRoute(t, fleet, notIdempotent, "a", "b")
	_, err := call(route)
	var ae *AttemptsError
	if !errors.As(err, &ae) || ae.Attempts != 1 || !ae.Delivered {
		t.Fatalf("err = %v, want one delivered attempt, not retried", err)
	}
	if got := FailureKind(err); got != AttemptsFailed {
		t.Fatalf("kind %q, want %q (502: it may have been processed)", got, AttemptsFailed)
	}
	if calls := fleet.takeCalls(); len(calls) != 1 {
		t.Fatalf("instances called: %v, want a only", calls)
	}
}

func TestNotIdempotentRouteIsRetriedWhenNothingReachedAnInstance(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: undelivered{}})
	route, _ := newTestRoute(t, fleet, notIdempotent, "a", "b")
	resp, err := call(route)
	if err != nil || string(resp.(payload)) != `{"v":"b"}` {
		t.Fatalf("answer %v, %v; want b's after a refused", resp, err)
	}
}

func TestRequestNoInstanceTookIsUnreachable(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: undelivered{}})
	fleet.setBehavior("b", instanceBehavior{err: undelivered{}})
	for _, policy := range []RetryPolicy{notIdempotent, quickPolicy} {
		route, _ := newTestRoute(t, fleet, policy, "a", "b")
		_, err := call(route)
		if got := FailureKind(err); got != Unreachable {
			t.Fatalf("idempotent %v: kind %q (%v), want %q: not processed, 503", policy.Idempotent, got, err, Unreachable)
		}
	}
}

func TestNotIdempotentRouteIsNeverHedged(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{delay: 50 * time.Millisecond})
	reg := NewStatusBoard()
	route, _ := newTestRouteWith(t, fleet, Settings{Breaker: BreakerSettings{Failures: 2, Open: time.Hour}, Retry: notIdempotent, Status: reg}, "a", "b")
	resp, err := call(route)
	if err != nil || string(resp.(payload)) != `{"v":"a"}` {
		t.Fatalf("answer %v, %v; want a's, however slow", resp, err)
	}
	if rs := reg.Routes()[0]; rs.HedgesSent != 0 {
		t.Fatalf("%d hedges sent on a route that is not idempotent", rs.HedgesSent)
	}
	if calls := fleet.takeCalls(); len(calls) != 1 {
		t.Fatalf("instances called: %v, want a only", calls)
	}
}

func TestClientErrorIsTheAnswerWhateverItsCode(t *testing.T) {
	for code, want := range map[int]bool{http.StatusBadRequest: true, http.StatusNotFound: true, http.StatusInternalServerError: false, http.StatusBadGateway: false} {
		if got := isClientError(&statusError{code: code}); got != want {
			t.Errorf("%d: client error %v, want %v", code, got, want)
		}
	}
}
