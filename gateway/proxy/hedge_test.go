package proxy

import (
	"errors"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// An attempt that has not answered after the hedge delay is raced by one to the next instance;
// the first answer wins; the loser is abandoned, and its timeout still counts against its
// instance (so that a hung instance is found even while hedges hide it).
func TestHedgeAnswersWhileTheFirstAttemptHangs(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{hang: true})
	reg := NewStatusBoard()
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 1, Open: time.Hour}, Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 2, TryTimeout: 300 * time.Millisecond, Budget: time.Minute, Hedge: true, HedgeMinDelay: 5 * time.Millisecond},
	}, "a", "b")
	begin := time.Now()
	resp, err := call(route) // starts at a
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 200*time.Millisecond {
		t.Fatalf("answered after %v: the hang was waited out", took)
	}
	if v := string(resp.(payload)); v != `{"v":"b"}` {
		t.Fatalf("answered by %s, want b", v)
	}
	rs := reg.Routes()[0]
	if rs.HedgesSent != 1 || rs.HedgesWon != 1 {
		t.Fatalf("route: %+v, want one hedge sent and won", rs)
	}
	testkit.Eventually(t, 5*time.Second, "a's abandoned attempt times out and counts against it", func() bool {
		return statusOf(t, reg, "a").Failures == 1
	})
}

// Without hedging, the same request waits for the first attempt's timeout.
func TestNoHedgeWhenOff(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{hang: true})
	reg := NewStatusBoard()
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 5, Open: time.Hour}, Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 2, TryTimeout: 50 * time.Millisecond, Budget: time.Minute, HedgeMinDelay: time.Millisecond},
	}, "a", "b")
	begin := time.Now()
	if _, err := call(route); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took < 50*time.Millisecond {
		t.Fatalf("answered after %v, before a's timeout: something hedged", took)
	}
	if rs := reg.Routes()[0]; rs.HedgesSent != 0 {
		t.Fatalf("%d hedges sent with hedging off", rs.HedgesSent)
	}
}

// Retries and hedges stop when the budget is spent: with no allowance, one attempt per request.
func TestRetryBudgetStopsRetries(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	reg := NewStatusBoard()
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 100, Open: time.Hour}, Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: time.Second, Budget: time.Second,
			RetryBudget: RetryBudgetSettings{Ratio: 0.5, MinPerSecond: 0, Window: 10 * time.Second}},
	}, "a", "b")
	// Requests starting at a fail over to b only while the budget (half a retry per request)
	// lasts: of 10 requests (5 at a), at most 5 retries.
	failed := 0
	for range 10 {
		_, err := call(route)
		var ae *AttemptsError
		if errors.As(err, &ae) {
			if !ae.BudgetDenied {
				t.Fatalf("err = %v, want the budget named", err)
			}
			failed++
		}
	}
	if failed == 0 || reg.Routes()[0].RetryBudgetDenied == 0 {
		t.Fatal("no retry was refused: the budget did not hold")
	}
}

func TestRetryBudgetAllowsARatioOfRequestsPlusAFloor(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newRetryBudget(RetryBudgetSettings{Ratio: 0.2, MinPerSecond: 1, Window: 10 * time.Second}, func() time.Time { return now })
	for range 100 {
		b.request()
	}
	allowed := 0
	for b.tryRetry() {
		allowed++
	}
	if allowed != 30 { // 20% of 100, plus 1/s over 10 s
		t.Fatalf("allowed %d retries, want 30", allowed)
	}
	now = now.Add(11 * time.Second) // the window has passed: only the floor is left
	if got := b.available(); got != 10 {
		t.Fatalf("available after the window = %v, want 10", got)
	}
}

func TestHedgeDelayFollowsTheRoutesLatency(t *testing.T) {
	tr := newLatencyTracker(0.95, time.Second)
	now := time.Unix(1000, 0)
	tr.observe(time.Millisecond, now) // starts the first window
	for i := range 100 {
		d := time.Millisecond
		if i >= 90 {
			d = 40 * time.Millisecond // the slowest tenth
		}
		tr.observe(d, now)
	}
	tr.observe(time.Millisecond, now.Add(time.Second)) // ends it
	if got := tr.get(); got < 40*time.Millisecond || got > 47*time.Millisecond {
		t.Fatalf("p95 = %v, want about 40 ms (a bucket is 15%% wide)", got)
	}
}

// No hedge is sent while requests wait for admission: the service has no spare capacity.
func TestNoHedgeWhileRequestsQueue(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{delay: 500 * time.Millisecond})
	reg := NewStatusBoard()
	a := fixedAdmission(1, 10)
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 5, Open: time.Hour}, Status: reg, Admission: a,
		Retry: RetryPolicy{Idempotent: true, Attempts: 2, TryTimeout: time.Second, Budget: time.Minute, Hedge: true, HedgeMinDelay: 200 * time.Millisecond},
	}, "a", "b")
	done := make(chan error, 2)
	go func() { _, err := call(route); done <- err }() // starts at a (slow), holds the only permit
	testkit.Eventually(t, 5*time.Second, "the first request in flight", func() bool { return a.Status().InFlight == 1 })
	go func() { _, err := call(route); done <- err }()
	testkit.Eventually(t, 5*time.Second, "the second request queued", func() bool { return a.Status().Queued == 1 })
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if rs := reg.Routes()[0]; rs.HedgesSent != 0 {
		t.Fatalf("%d hedges sent while a request queued", rs.HedgesSent)
	}
}
