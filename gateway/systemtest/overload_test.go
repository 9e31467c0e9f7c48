//go:build integration

package systemtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// throughput is the requests of r per second of a window of length d.
func throughput(r loadResult, d time.Duration) float64 { return float64(r.requests) / d.Seconds() }

// openedBreakers returns, for every line in which the gateway logged a breaker opening, the
// breaker (route@addr) and the reason when the line has one.
func (g *gateway) openedBreakers() []string {
	var opened []string
	for _, line := range g.proc.output() {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil ||
			entry["@message"] != "circuit breaker state changed" || entry["to"] != "open" {
			continue
		}
		desc := fmt.Sprint(entry["breaker"])
		if reason, ok := entry["reason"]; ok {
			desc += fmt.Sprintf(" (reason %v)", reason)
		}
		opened = append(opened, desc)
	}
	return opened
}

// failureKinds counts the failed samples by what went wrong, the status code or the error.
func failureKinds(samples []sample) map[string]int {
	kinds := map[string]int{}
	for _, s := range samples {
		if s.failure != "" {
			kind, _, _ := strings.Cut(s.failure, " ")
			kinds[kind]++
		}
	}
	return kinds
}

// The spike's shape: on a 2-core machine shared by Consul, three stringsvc, the gateway and this
// test's clients, a few dozen workers saturate the gateway; beyond them throughput stays flat and
// the clients' latency grows with their number, N / throughput (Little's law). With a 50 ms
// attempt timeout and no admission control, 2,000 clients wait long enough that a large share of
// attempts would time out. The measurement behind this is in bench/README.md, "Figures behind
// the code".
const (
	// spikeTryTimeout is the gateway's per-attempt timeout in the spike test: short enough that
	// the spike is far past the point where attempts time out without admission control, long
	// enough (several times the steady p99 and above its steady maxima) that attempts on a busy
	// but admitted path do not.
	spikeTryTimeout = 50 * time.Millisecond
	// spikeClients is the spike's concurrency (see above).
	spikeClients = 2000
	// spikeFor is how long the spike clients send: long enough for any adaptive limit to have
	// settled and been judged over several seconds, bounded to keep the run short.
	spikeFor = 4 * time.Second
	// steadyWorkers is the stream before, during and after the spike, as in the other tests.
	steadyWorkers = 16
	// settle is the start of the steady stream left out of its figures (connections opening).
	settle = time.Second
	// steadyFor is the steady phase measured before the spike.
	steadyFor = 2 * time.Second
	// afterFor is the phase after the spike: its first second must show the recovery.
	afterFor = 3 * time.Second
)

// Far past saturation, admission control queues what the instances cannot take at once and keeps
// the attempts fast, so that a spike of 2,000 concurrent clients (over 100 times the concurrency
// that saturates the machine) is served, a little later, instead of timing attempts out, opening
// breakers and answering 503. Throughout, a steady stream of 16 workers; after the spike, the
// gateway is back to its steady latency at once.
func TestSpikeFarPastSaturationLosesAlmostNothing(t *testing.T) {
	consul := startConsul(t)
	for range 3 {
		startStringsvc(t)
	}
	g := startGatewayWith(t, nil, "-try-timeout", spikeTryTimeout.String())
	consul.waitPassing(t, 3, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)

	// The steady stream runs until stopped after the phase after the spike; its bound is only a
	// backstop (the spike ends at most spikeFor plus a request's 5 s timeout after it began).
	start := time.Now()
	steady := startRecordedLoad(g, steadyWorkers, settle+steadyFor+spikeFor+10*time.Second+afterFor)
	time.Sleep(settle + steadyFor)
	spikeStart := time.Now()
	spike := startRecordedLoad(g, spikeClients, spikeFor)
	spikeSamples := spike.wait(t)
	// The phase after the spike begins when its last request has been answered: from then on the
	// gateway has only the steady stream to serve.
	spikeEnd := spike.ended
	time.Sleep(time.Until(spikeEnd.Add(afterFor)))
	steady.stop()
	steadySamples := steady.wait(t)

	before := window(steadySamples, start.Add(settle), spikeStart)
	during := window(append(slices.Clone(steadySamples), spikeSamples...), spikeStart, spikeEnd)
	spikeOnly := window(spikeSamples, spikeStart, spikeEnd)
	after := window(steadySamples, spikeEnd, steady.ended)
	firstSecond := window(steadySamples, spikeEnd, spikeEnd.Add(time.Second))
	beforeRate := throughput(before, spikeStart.Sub(start.Add(settle)))
	t.Logf("before the spike (%d workers, %v): %v; %.0f req/s", steadyWorkers, spikeStart.Sub(start.Add(settle)).Round(time.Millisecond), before, beforeRate)
	t.Logf("spike (%d clients + %d workers, %v): %v; %.0f req/s; failures by kind: %v",
		spikeClients, steadyWorkers, spikeEnd.Sub(spikeStart).Round(time.Millisecond), during,
		throughput(during, spikeEnd.Sub(spikeStart)), failureKinds(spikeSamples))
	t.Logf("  the spike's clients alone: %v", spikeOnly)
	t.Logf("after the spike (%d workers): %v", steadyWorkers, after)
	t.Logf("  its first second: %v", firstSecond)
	opened := g.openedBreakers()
	t.Logf("breakers opened: %d %v", len(opened), opened)

	// The spike must be far past saturation, or this test proves nothing. By Little's law the
	// spike's clients wait about N / throughput in all; a wait of 1.5x the attempt timeout
	// already puts a tenth of the attempts over it, which opens breakers within milliseconds.
	if wait := time.Duration(float64(spikeClients) / beforeRate * float64(time.Second)); wait < 3*spikeTryTimeout/2 {
		t.Errorf("the spike is not far enough past saturation on this machine: %d clients at %.0f req/s wait ~%v, less than 1.5x the attempt timeout (%v); raise spikeClients",
			spikeClients, beforeRate, wait, spikeTryTimeout)
	}
	// 99.9%: admission control may shed the odd request that could not be admitted within its
	// 1 s budget (at the queueing this spike makes none should be), but a spike must not turn into an
	// outage; a 503 shed is a failure here like any other.
	if during.failed*1000 > during.requests {
		t.Errorf("%d of %d requests during the spike failed (%.2f%%, at most 0.1%% allowed); first: %v",
			during.failed, during.requests, 100*float64(during.failed)/float64(during.requests), during.failures)
	}
	if after.failed > 0 {
		t.Errorf("%d of %d requests after the spike failed; first: %v", after.failed, after.requests, after.failures)
	}
	// Overload is not the instances' fault: no breaker may open (attempts that time out because
	// the whole system is overloaded must not count against healthy instances).
	if len(opened) > 0 {
		t.Errorf("breakers opened during the spike: %v", opened)
	}
	// Recovery at once: the first second after the spike has about the steady p99. 2x covers the
	// spread of p99 between phases seconds apart on a shared 2-core machine; the 10 ms cover the
	// one-off costs right after a spike that are not the gateway's state (2,000 connections
	// closing, a GC cycle of what the spike left). A gateway still draining a queue, with a
	// collapsed limit or with breakers open shows tens to hundreds of ms, or failures.
	if limit := 2*before.percentile(0.99) + 10*time.Millisecond; firstSecond.percentile(0.99) > limit {
		t.Errorf("p99 in the first second after the spike = %v, want at most %v (steady p99 %v)",
			firstSecond.percentile(0.99), limit, before.percentile(0.99))
	}
}
