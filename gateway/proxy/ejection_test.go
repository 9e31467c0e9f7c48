package proxy

import (
	"slices"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// fastOutliers judges every 20 ms on few requests, so that tests see verdicts quickly.
func fastOutliers() OutlierSettings {
	s := DefaultOutlierSettings()
	s.Interval, s.MinRequests, s.LatencyGap = 20*time.Millisecond, 5, 5*time.Millisecond
	return s
}

// callUntil sends requests until cond holds, failing the test after 5 s.
func callUntil(t *testing.T, route *Route, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, what, func() bool {
		for range 10 {
			call(route)
		}
		return cond()
	})
}

func statusOf(t *testing.T, r *StatusBoard, instance string) EndpointStatus {
	t.Helper()
	for _, st := range r.Snapshot() {
		if st.Instance == instance {
			return st
		}
	}
	t.Fatalf("no endpoint of %s", instance)
	return EndpointStatus{}
}

// Requests that time out everywhere (the whole service is overloaded) open no breaker.
func TestTimeoutsEverywhereEjectNone(t *testing.T) {
	fleet := newFleet()
	for _, in := range []string{"a", "b", "c"} {
		fleet.setBehavior(in, instanceBehavior{hang: true})
	}
	reg := NewStatusBoard()
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 2, Open: time.Hour}, Outliers: fastOutliers(), Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: 5 * time.Millisecond, Budget: time.Second},
	}, "a", "b", "c")
	for range 10 {
		if _, err := call(route); err == nil {
			t.Fatal("a hung fleet answered")
		}
	}
	for _, st := range reg.Snapshot() {
		if st.Breaker != "closed" || st.Ejected {
			t.Fatalf("%s: breaker %s, ejected %v: a healthy-but-overloaded instance was ejected", st.Instance, st.Breaker, st.Ejected)
		}
	}
}

// A hung instance among healthy peers fails every attempt while they fail none: the window's
// comparison ejects it.
func TestHungInstanceAmongHealthyPeersIsEjected(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{hang: true})
	reg := NewStatusBoard()
	o := fastOutliers()
	o.Interval = 200 * time.Millisecond // one request at a time: a must get MinRequests in a window
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 2, Open: time.Hour}, Outliers: o, Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: 5 * time.Millisecond, Budget: time.Second},
	}, "a", "b", "c")
	callUntil(t, route, "a is ejected", func() bool { return statusOf(t, reg, "a").Ejected })
	if st := statusOf(t, reg, "a"); st.EjectedReason != ReasonFailureRate || st.Breaker != "open" {
		t.Fatalf("a: %+v, want open for its failure rate", st)
	}
}

// An instance whose answers are far slower than its peers' is ejected, and its probe, still
// slow, keeps it out for longer; once it is fast again, a probe brings it back.
func TestSlowInstanceIsEjectedAndComesBackWhenFast(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("c", instanceBehavior{delay: 30 * time.Millisecond})
	reg := NewStatusBoard()
	o := fastOutliers()
	o.Interval = 300 * time.Millisecond // one request at a time: c must get MinRequests in a window
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 3, Open: 50 * time.Millisecond}, Outliers: o, Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: time.Second, Budget: 5 * time.Second},
	}, "a", "b", "c")
	callUntil(t, route, "c is ejected for its latency", func() bool {
		st := statusOf(t, reg, "c")
		return st.Ejected && st.EjectedReason == ReasonLatency
	})
	callUntil(t, route, "c's slow probe keeps it out, for longer", func() bool { return statusOf(t, reg, "c").Ejections >= 2 })
	if st := statusOf(t, reg, "c"); st.EjectedReason != ReasonLatency+", probe failed" {
		t.Fatalf("c: reason %q, want the slow probe", st.EjectedReason)
	}
	fleet.setBehavior("c", instanceBehavior{})
	callUntil(t, route, "c is back once fast", func() bool { return statusOf(t, reg, "c").Breaker == "closed" })
	fleet.takeCalls()
	for range 6 {
		call(route)
	}
	if got := fleet.takeCalls(); !slices.Contains(got, "c") {
		t.Fatalf("calls = %v: c is back but gets nothing", got)
	}
}

// Of two instances failing a share of their requests among four, the cap (25%: one) ejects
// only one; the other stays in rotation, flagged.
func TestCapLimitsHowManyAreEjected(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	fleet.setBehavior("b", instanceBehavior{err: serverError})
	reg := NewStatusBoard()
	o := fastOutliers()
	o.MaxEjectedPercent = 25
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 100, Open: time.Hour}, Outliers: o, Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 4, TryTimeout: time.Second, Budget: time.Second},
	}, "a", "b", "c", "d")
	callUntil(t, route, "one is ejected and the other flagged", func() bool {
		a, b := statusOf(t, reg, "a"), statusOf(t, reg, "b")
		return a.Ejected != b.Ejected && (a.Flagged == ReasonFailureRate || b.Flagged == ReasonFailureRate)
	})
	if rs := reg.Routes()[0]; rs.Ejected != 1 || rs.Panic {
		t.Fatalf("route: %+v, want 1 ejected and no panic", rs)
	}
}

// With two of three instances looking bad, only one may be ejected (the cap) and the group
// panics: every instance gets traffic again, the ejected one too.
func TestPanicModeSendsToEveryInstance(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	fleet.setBehavior("b", instanceBehavior{err: serverError})
	reg := NewStatusBoard()
	route, _ := newTestRouteWith(t, fleet, Settings{
		Breaker: BreakerSettings{Failures: 100, Open: time.Hour}, Outliers: fastOutliers(), Status: reg,
		Retry: RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: time.Second, Budget: time.Second},
	}, "a", "b", "c")
	callUntil(t, route, "panic mode", func() bool { return reg.Routes()[0].Panic })
	fleet.takeCalls()
	for range 6 {
		call(route)
	}
	calls := fleet.takeCalls()
	for _, in := range []string{"a", "b", "c"} {
		if !slices.Contains(calls, in) {
			t.Fatalf("calls = %v: %s gets no traffic in panic mode", calls, in)
		}
	}
}

// A request the gateway could not send (its pool for the instance was full) is retried
// elsewhere and never counts against the instance.
func TestNotSentIsRetriedButNotCounted(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: notSentError{}})
	route, _ := newTestRoute(t, fleet, quickPolicy, "a", "b")
	for range 6 {
		if _, err := call(route); err != nil {
			t.Fatal(err)
		}
	}
	fleet.takeCalls()
	call(route) // would start at a
	if got := fleet.takeCalls(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("calls = %v: a's breaker opened on the gateway's own limit", got)
	}
}

type notSentError struct{}

func (notSentError) Error() string { return "no free connection" }
func (notSentError) NotSent() bool { return true }
