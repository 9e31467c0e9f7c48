//go:build integration

package systemtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// Gray failures: an instance that passes its health check but answers late, or fails a share of
// its requests (graysvc). Consul keeps it passing, so it is the gateway's business alone.

const (
	// detection is the start of a load under a gray instance left out of its latency figures
	// (never out of its failures): the gateway cannot judge an instance before it has seen its
	// answers, and judging it against its peers takes a window of them. At 16 workers a second
	// holds hundreds of the gray instance's answers, so any outlier detection worth having has
	// decided within it.
	detection = time.Second
	// grayFor is the load measured after the detection window. It stays under the breakers'
	// default open time (5 s), so that an ejected instance is not yet probed back more than once.
	grayFor = 4 * time.Second
	// cleanFor is the load measured to know this machine's latency without a gray instance.
	cleanFor = 2 * time.Second
	// slowDelay is how late the slow instance answers, every time.
	slowDelay = 50 * time.Millisecond
	// tailDelay and tailShare: the tail instance answers one request in ten 200 ms late.
	tailDelay = 200 * time.Millisecond
	tailShare = 0.1
)

// An instance that answers every request 50 ms late, with its health check passing, is ejected
// by its latency against its peers: its breaker opens (reason "latency", and /metrics shows it
// open), no healthy instance's does, and once it is out the p99 is what the healthy instances
// alone give.
func TestSlowInstanceIsEjected(t *testing.T) {
	consul := startConsul(t)
	healthy := []*instance{startStringsvc(t), startStringsvc(t)}
	g := startGateway(t)
	consul.waitPassing(t, 2, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)

	// Clean: the two healthy instances alone, which is what the gateway routes to once it has
	// ejected the slow one.
	clean := measure(t, g, cleanFor)
	t.Logf("clean (%d healthy instances, 16 workers, %v): %v", len(healthy), cleanFor, clean)

	slow := startGraysvc(t, "-delay", slowDelay.String())
	consul.waitPassing(t, 3, 15*time.Second)
	g.waitServes(t, slow, 10*time.Second)

	// A p99 within 2x the clean one means the slow instance gets (almost) nothing: were it
	// still getting a third of the requests, or even 1% of them, the p99 would be its 50 ms.
	// 2x covers the spread between two phases seconds apart on a shared 2-core machine, and the
	// 20 ms floor a clean p99 of a few ms that a busy moment more than doubles. The limit must
	// stay under the slow instance's delay, or the p99 could not tell ejected from not.
	limit := max(2*clean.percentile(0.99), 20*time.Millisecond)
	if limit >= slowDelay {
		t.Fatalf("the clean p99 (%v) is too high on this machine to tell a %v-slow instance apart (limit %v)",
			clean.percentile(0.99), slowDelay, limit)
	}
	series := fmt.Sprintf(`gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q}`, slow.addr)
	begin := time.Now()
	l := startRecordedLoad(g, 16, detection+grayFor)
	// While the load runs, /metrics must show the slow instance's breaker open (2) at some point.
	shownOpen := false
	for !shownOpen && time.Since(begin) < detection+grayFor {
		shownOpen = g.metric(t, series) == 2
		time.Sleep(50 * time.Millisecond)
	}
	samples := l.wait(t)
	all := window(samples, begin, l.ended)
	judged := window(samples, begin.Add(detection), l.ended)
	t.Logf("with the slow instance (16 workers, %v): %v", l.ended.Sub(begin).Round(time.Millisecond), all)
	t.Logf("  after the first %v: %v", detection, judged)
	t.Logf("breakers opened: %v", g.openedBreakers())

	if all.failed > 0 {
		t.Errorf("%d of %d requests failed (a slow instance still answers correctly); first: %v", all.failed, all.requests, all.failures)
	}
	if p99 := judged.percentile(0.99); p99 > limit {
		t.Errorf("p99 after the first %v = %v, want at most %v (2x the clean p99 %v, at least 20 ms)",
			detection, p99, limit, clean.percentile(0.99))
	}
	if entry := g.proc.findLogEntry("circuit breaker state changed",
		map[string]string{"breaker": "POST /stringsvc/uppercase@" + slow.addr, "to": "open"}); entry == nil {
		t.Errorf("the slow instance's breaker (%s) did not open", slow.addr)
	} else if entry["reason"] != "latency" {
		t.Errorf("the slow instance's breaker opened with reason %v, want latency", entry["reason"])
	}
	if !shownOpen {
		t.Errorf("/metrics never showed %s = 2 (open) during the load", series)
	}
	for _, in := range healthy {
		if g.breakerOpened("POST /stringsvc/uppercase", in.addr) {
			t.Errorf("the breaker of the healthy instance %s opened", in.addr)
		}
	}
}

// An instance that answers one request in ten 200 ms late (passing its health check, fast
// otherwise) is hedged and ejected: the p99 stays at 50 ms or less, for at most 10% more requests
// sent to the instances than the clients made.
func TestTailInstanceIsHedgedAndEjected(t *testing.T) {
	consul := startConsul(t)
	instances := []*instance{startStringsvc(t), startStringsvc(t),
		startGraysvc(t, "-delay", tailDelay.String(), "-delay-share", fmt.Sprint(tailShare))}
	tail := instances[2]
	g := startGateway(t)
	consul.waitPassing(t, 3, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)
	g.waitServes(t, tail, 10*time.Second)

	servedBefore := servedBy(t, instances)
	begin := time.Now()
	l := startRecordedLoad(g, 16, detection+grayFor)
	samples := l.wait(t)
	// Every request the gateway sent has been answered 2x the longest delay after the load
	// ended (a hedge it no longer waited for included), and so counted by its instance.
	time.Sleep(time.Until(l.ended.Add(2 * tailDelay)))
	upstream := servedBy(t, instances) - servedBefore
	all := window(samples, begin, l.ended)
	judged := window(samples, begin.Add(detection), l.ended)
	extra := float64(upstream-all.requests) / float64(all.requests)
	t.Logf("with the tail instance (16 workers, %v): %v", l.ended.Sub(begin).Round(time.Millisecond), all)
	t.Logf("  after the first %v: %v", detection, judged)
	t.Logf("upstream requests: %d for %d requests (%+.1f%%); breakers opened: %v",
		upstream, all.requests, 100*extra, g.openedBreakers())

	if all.failed > 0 {
		t.Errorf("%d of %d requests failed; first: %v", all.failed, all.requests, all.failures)
	}
	// Without hedging or ejection, 1 request in 30 (a third of the requests, one in ten of
	// those) takes 200 ms, and so does the p99. 50 ms leave room for a hedge sent after a
	// delay about the route's usual latency (its p95, say) and for this machine's noise (a
	// clean p99 of 3-12 ms), far under the 200 ms tail.
	if p99 := judged.percentile(0.99); p99 > 50*time.Millisecond {
		t.Errorf("p99 after the first %v = %v, want at most 50 ms", detection, p99)
	}
	// Hedges (and retries) are extra load on the instances, bounded by the retry budget. A
	// hedge is due for about 1 request in 30; 10% leaves room for hedges of requests that
	// would have been fast after all (hedging at the route's p95 sends about 5% by itself),
	// without letting hedging grow the load by the retry budget's 20%.
	if extra > 0.10 {
		t.Errorf("the instances got %d requests for %d made: %.1f%% extra, want at most 10%%",
			upstream, all.requests, 100*extra)
	}
	// Its mean latency, about 20 ms against its peers' 1-2 ms, is far past the outlier rule
	// (3x and 15 ms more): it is ejected for it, and no healthy instance is.
	if g.proc.findLogEntry("circuit breaker state changed",
		map[string]string{"breaker": "POST /stringsvc/uppercase@" + tail.addr, "to": "open", "reason": "latency"}) == nil {
		t.Errorf("the tail instance %s was not ejected for its latency; breakers opened: %v", tail.addr, g.openedBreakers())
	}
	for _, in := range instances[:2] {
		if g.breakerOpened("POST /stringsvc/uppercase", in.addr) {
			t.Errorf("the breaker of the healthy instance %s opened", in.addr)
		}
	}
}

// An instance that answers 30% of its requests with 500 (passing its health check) costs no
// request: each failed attempt is retried on another instance, within the retry budget.
func TestFailingShareOfRequestsLosesNothing(t *testing.T) {
	consul := startConsul(t)
	healthy := []*instance{startStringsvc(t), startStringsvc(t)}
	g := startGateway(t)
	consul.waitPassing(t, 2, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)

	// The failing instance turns up under load, as an instance going gray would: the stream
	// meets its failures from the gateway's first attempts on it, before any ejection. The
	// stream is stopped 5 s after the instance passes; its bound is only a backstop.
	l := startLoad(g, 16, 30*time.Second)
	t.Cleanup(l.stop)
	failing := startGraysvc(t, "-error-share", "0.3")
	consul.waitPassing(t, 3, 15*time.Second)
	time.Sleep(5 * time.Second)
	l.stop()
	requireNoFailures(t, l.wait(t))
	// The failures must have happened, or the test proved nothing.
	if n := failing.metric(t, injected); n <= 0 {
		t.Errorf("the failing instance injected no failure (%s: %v)", injected, n)
	} else {
		t.Logf("the failing instance answered %v requests with 500, of %d it got", n, failing.served(t))
	}
	t.Logf("breakers opened: %v", g.openedBreakers())
	for _, in := range healthy {
		if g.breakerOpened("POST /stringsvc/uppercase", in.addr) {
			t.Errorf("the breaker of the healthy instance %s opened", in.addr)
		}
	}
}

// injected is the series in which graysvc counts the failures it injects.
const injected = `stringsvc_requests_total{error="true",method="uppercase"}`

// metric returns the value of one series of the instance's /metrics (-1: absent).
func (in *instance) metric(t *testing.T, series string) float64 {
	t.Helper()
	return testkit.MetricValue(in.metrics(t), series)
}

// measure runs 16 workers for settle+d and returns what they saw after settle.
func measure(t *testing.T, g *gateway, d time.Duration) loadResult {
	t.Helper()
	begin := time.Now()
	l := startRecordedLoad(g, 16, settle+d)
	samples := l.wait(t)
	return window(samples, begin.Add(settle), l.ended)
}

// waitServes waits until the gateway has sent in a request (it knows the instance and routes to
// it), sending requests through it meanwhile.
func (g *gateway) waitServes(t *testing.T, in *instance, timeout time.Duration) {
	t.Helper()
	testkit.Eventually(t, timeout, fmt.Sprintf("the gateway routes to %s", in.addr), func() bool {
		g.post(t, "/stringsvc/uppercase", `{"s":"probe"}`)
		return in.served(t) > 0
	})
}

// servedBy is the requests the instances have served, all together.
func servedBy(t *testing.T, instances []*instance) int {
	t.Helper()
	total := 0
	for _, in := range instances {
		total += in.served(t)
	}
	return total
}
