package proxy

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
)

func TestRoundRobinSpreadsRequestsInRingOrder(t *testing.T) {
	fleet := newFleet()
	route, _ := newTestRoute(t, fleet, quickPolicy, "c", "a", "b")
	for range 6 {
		if _, err := call(route); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := fleet.takeCalls(), []string{"a", "b", "c", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
}

func TestRetryGoesToTheNextInstanceNotBackToTheFailedOne(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	route, _ := newTestRoute(t, fleet, quickPolicy, "a", "b", "c")
	resp, err := call(route)
	if err != nil {
		t.Fatal(err)
	}
	if v := string(resp.(payload)); v != `{"v":"b"}` {
		t.Fatalf("answered by %q, want b", v)
	}
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("calls = %v, want [a b]", got)
	}
}

func TestAllAttemptsFailedReportsTheLastError(t *testing.T) {
	fleet := newFleet()
	for _, in := range []string{"a", "b", "c", "d"} {
		fleet.setBehavior(in, instanceBehavior{err: serverError})
	}
	route, _ := newTestRoute(t, fleet, quickPolicy, "a", "b", "c", "d")
	_, err := call(route)
	var ae *AttemptsError
	if !errors.As(err, &ae) || ae.Attempts != 3 || !errors.Is(err, serverError) {
		t.Fatalf("err = %v, want AttemptsError of 3 attempts wrapping the 500", err)
	}
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("calls = %v, want [a b c]", got)
	}
}

func TestOpenBreakerIsSkippedWithoutSpendingAnAttempt(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	// One attempt per request: a request that starts at an open breaker must still succeed.
	route, _ := newTestRoute(t, fleet, RetryPolicy{Idempotent: true, Attempts: 1, TryTimeout: time.Second, Budget: time.Second}, "a", "b")
	for i := range 4 { // a, b, a, b: a fails twice in a row and its breaker (Failures: 2) opens
		_, err := call(route)
		if failed := err != nil; failed != (i%2 == 0) {
			t.Fatalf("request %d: err = %v", i, err)
		}
	}
	fleet.takeCalls()
	for range 4 {
		if _, err := call(route); err != nil {
			t.Fatalf("with a's breaker open: %v", err)
		}
	}
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"b", "b", "b", "b"}) {
		t.Fatalf("calls = %v, want only b", got)
	}
}

// When every instance fails alike, the fault is not theirs (an overload, a shared dependency):
// none is ejected, and requests keep being tried.
func TestEveryInstanceFailingEjectsNone(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	fleet.setBehavior("b", instanceBehavior{err: serverError})
	route, _ := newTestRoute(t, fleet, quickPolicy, "a", "b")
	for range 5 { // 15 attempts: far more than Failures in a row on each
		if _, err := call(route); !errors.As(err, new(*AttemptsError)) {
			t.Fatalf("err = %v, want every attempt failed", err)
		}
	}
	fleet.takeCalls()
	if _, err := call(route); errors.Is(err, ErrAllBreakersOpen) {
		t.Fatal("a breaker opened though every instance failed alike")
	}
	if got := fleet.takeCalls(); len(got) != 3 {
		t.Fatalf("calls = %v, want three attempts", got)
	}
}

func TestClientErrorIsNotRetriedNorCountedAgainstTheInstance(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: clientError})
	route, _ := newTestRoute(t, fleet, quickPolicy, "a")
	for range 5 { // more than Failures: a 4xx must never open the breaker
		if _, err := call(route); err != clientError {
			t.Fatalf("err = %v, want the instance's 400 unchanged", err)
		}
	}
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"a", "a", "a", "a", "a"}) {
		t.Fatalf("calls = %v, want a once per request", got)
	}
}

func TestTryTimeoutMovesOnToTheNextInstance(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{hang: true})
	route, _ := newTestRoute(t, fleet, RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: 20 * time.Millisecond, Budget: time.Minute}, "a", "b")
	resp, err := call(route)
	if err != nil {
		t.Fatal(err)
	}
	if v := string(resp.(payload)); v != `{"v":"b"}` {
		t.Fatalf("answered by %q, want b", v)
	}
	// Timeouts alone do not open the breaker however many come in a row (an overload times out
	// everywhere): the window's comparison with the peers judges them (ejection_test.go).
	fleet.takeCalls()
	call(route) // starts at b
	call(route) // starts at a: timeout, then b
	call(route) // starts at b
	call(route) // starts at a: timeout, then b
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"b", "a", "b", "b", "a", "b"}) {
		t.Fatalf("calls = %v, want [b a b b a b]", got)
	}
}

func TestBudgetBoundsTheWholeRequest(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{hang: true})
	fleet.setBehavior("b", instanceBehavior{hang: true})
	route, _ := newTestRoute(t, fleet, RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: time.Minute, Budget: 20 * time.Millisecond}, "a", "b")
	for range 3 { // more than Failures: running out of budget is not the instance's fault
		if _, err := call(route); !errors.Is(err, ErrBudgetExhausted) {
			t.Fatalf("err = %v, want ErrBudgetExhausted", err)
		}
	}
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"a", "b", "a"}) {
		t.Fatalf("calls = %v, want one attempt per request", got)
	}
}

// The budget ends the request even when an attempt overruns it (fasthttp honours deadlines, but
// a request must not depend on that): whether the request's context can be canceled (the budget
// is then context.WithTimeout's) or not (the edge's: a deadlineContext, whose end the retrier's
// timer watches), with and without hedging.
func TestBudgetEndsTheRequestWhileItsAttemptRunsOn(t *testing.T) {
	const overrun = 3 * time.Second
	for _, hedge := range []bool{false, true} {
		for _, parent := range []string{"uncancelable", "cancelable"} {
			fleet := newFleet()
			fleet.setBehavior("a", instanceBehavior{delay: overrun})
			route, _ := newTestRoute(t, fleet, RetryPolicy{Idempotent: true, Attempts: 1, TryTimeout: time.Minute,
				Budget: 20 * time.Millisecond, Hedge: hedge, HedgeMinDelay: 5 * time.Millisecond}, "a")
			ctx := context.Background()
			if parent == "cancelable" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			begin := time.Now()
			_, err := route.Endpoint(ctx, payload([]byte(`{"s":"x"}`)))
			if !errors.Is(err, ErrBudgetExhausted) {
				t.Fatalf("hedge %v, %s context: err = %v, want ErrBudgetExhausted", hedge, parent, err)
			}
			if took := time.Since(begin); took >= overrun {
				t.Fatalf("hedge %v, %s context: the request waited %v, for its attempt's end", hedge, parent, took)
			}
		}
	}
}

func TestCallerCancellationIsNotCountedAgainstTheInstance(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{hang: true})
	route, _ := newTestRoute(t, fleet, quickPolicy, "a")
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := route.Endpoint(ctx, payload([]byte(`{"s":"x"}`))); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	}
	fleet.setBehavior("a", instanceBehavior{})
	if _, err := call(route); err != nil {
		t.Fatalf("a's breaker opened on the callers' cancellations: %v", err)
	}
}

func TestBreakerStateSurvivesInstanceSetUpdates(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	route, instancer := newTestRoute(t, fleet, RetryPolicy{Idempotent: true, Attempts: 1, TryTimeout: time.Second, Budget: time.Second}, "a", "b")
	call(route)                                // a fails
	call(route)                                // b
	call(route)                                // a fails: open
	fleet.setBehavior("a", instanceBehavior{}) // a recovers, but its breaker stays open for an hour

	instancer.set(sd.Event{Instances: []string{"a", "c"}}) // b leaves, c joins, a stays
	fleet.takeCalls()
	for range 4 {
		if _, err := call(route); err != nil {
			t.Fatal(err)
		}
	}
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"c", "c", "c", "c"}) {
		t.Fatalf("calls = %v: a's open breaker was lost in the update", got)
	}

	instancer.set(sd.Event{Instances: []string{"c"}})
	instancer.set(sd.Event{Instances: []string{"a", "c"}}) // a left and came back: a new breaker
	for range 2 {
		call(route)
	}
	if got := fleet.takeCalls(); !slices.Contains(got, "a") {
		t.Fatalf("calls = %v: a rejoined but was not called", got)
	}
}

func TestDiscoveryErrorKeepsTheLastKnownInstances(t *testing.T) {
	fleet := newFleet()
	route, instancer := newTestRoute(t, fleet, quickPolicy, "a")
	instancer.set(sd.Event{Err: errors.New("consul unreachable")})
	if _, err := call(route); err != nil {
		t.Fatalf("after a discovery error: %v", err)
	}
}

func TestNoInstances(t *testing.T) {
	route, _ := newTestRoute(t, newFleet(), quickPolicy)
	if _, err := call(route); !errors.Is(err, ErrNoInstances) {
		t.Fatalf("err = %v, want ErrNoInstances", err)
	}
}

// Closing a route closes each of its instance clients once (giving their connection pools back)
// and takes its instances off the status board: a closed go-kit Endpointer closes neither. Its
// requests in flight keep their instances.
func TestCloseClosesEveryInstanceClientOnce(t *testing.T) {
	fleet := newFleet()
	var mu sync.Mutex
	closed := map[string]int{}
	factory := func(instance string) (endpoint.Endpoint, io.Closer, error) {
		ep, _, err := fleet.factory(instance)
		return ep, closerFunc(func() error {
			mu.Lock()
			defer mu.Unlock()
			closed[instance]++
			return nil
		}), err
	}
	board := NewStatusBoard()
	inst := &fakeInstancer{state: sd.Event{Instances: []string{"a", "b", "c"}}}
	route := NewRoute("stringsvc", "uppercase", inst, factory, Settings{Logger: hclog.NewNullLogger(), Status: board,
		Breaker: BreakerSettings{Failures: 2, Open: time.Hour},
		Retry:   RetryPolicy{Idempotent: true, Attempts: 1, TryTimeout: time.Second, Budget: time.Second}})
	inst.set(sd.Event{Instances: []string{"a", "b"}}) // c leaves: closed by the Endpointer
	if len(board.Snapshot()) != 2 {
		t.Fatalf("board lists %d endpoints, want a and b", len(board.Snapshot()))
	}
	route.Close()
	mu.Lock()
	defer mu.Unlock()
	if want := map[string]int{"a": 1, "b": 1, "c": 1}; !maps.Equal(closed, want) {
		t.Errorf("closed %v, want each instance's client closed once: %v", closed, want)
	}
	if left := board.Snapshot(); len(left) != 0 {
		t.Errorf("board still lists %+v after the route closed", left)
	}
	// A request that reached the route before it was replaced and closed still has its instances.
	if _, err := call(route); err != nil {
		t.Errorf("a request on the closed route: %v, want it served by the instances it had", err)
	}
}
