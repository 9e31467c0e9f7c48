package proxy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
)

// recorded is a go-kit Counter, Gauge and Histogram that sums what is added, set or observed per
// label set ("k=v,k=v"), in a map shared by all its With children.
type recorded struct {
	mu     *sync.Mutex
	values map[string]float64
	lvs    []string
}

func newRecorded() *recorded {
	return &recorded{mu: &sync.Mutex{}, values: map[string]float64{}}
}

func (r *recorded) With(lvs ...string) *recorded {
	return &recorded{mu: r.mu, values: r.values, lvs: append(append([]string(nil), r.lvs...), lvs...)}
}

func (r *recorded) Add(delta float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values[r.key()] += delta
}

func (r *recorded) key() string {
	pairs := make([]string, 0, len(r.lvs)/2)
	for i := 0; i+1 < len(r.lvs); i += 2 {
		pairs = append(pairs, r.lvs[i]+"="+r.lvs[i+1])
	}
	return strings.Join(pairs, ",")
}

func (r *recorded) get(key string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.values[key]
}

// The three go-kit metric interfaces over recorded.
type (
	recordedCounter   struct{ *recorded }
	recordedHistogram struct{ *recorded }
)

func (c recordedCounter) With(lvs ...string) metrics.Counter {
	return recordedCounter{c.recorded.With(lvs...)}
}
func (h recordedHistogram) With(lvs ...string) metrics.Histogram {
	return recordedHistogram{h.recorded.With(lvs...)}
}
func (h recordedHistogram) Observe(float64) { h.Add(1) } // counts observations

// recordedMetrics is a Metrics whose fields are each recorded apart.
type recordedMetrics struct {
	attempts, durations, retries, failures, transitions *recorded
}

func newRecordedMetrics() (recordedMetrics, Metrics) {
	r := recordedMetrics{newRecorded(), newRecorded(), newRecorded(), newRecorded(), newRecorded()}
	return r, Metrics{
		Attempts:           recordedCounter{r.attempts},
		AttemptDuration:    recordedHistogram{r.durations},
		Retries:            recordedCounter{r.retries},
		Failures:           recordedCounter{r.failures},
		BreakerTransitions: recordedCounter{r.transitions},
	}
}

// newObservedRoute is newTestRoute with recorded metrics and a registry.
func newObservedRoute(t *testing.T, fleet *fakeFleet, policy RetryPolicy, instances ...string) (*Route, *fakeInstancer, recordedMetrics, *StatusBoard) {
	t.Helper()
	rec, m := newRecordedMetrics()
	registry := NewStatusBoard()
	inst := &fakeInstancer{state: sd.Event{Instances: instances}}
	route := NewRoute("stringsvc", "uppercase", inst, fleet.factory, Settings{
		Breaker: BreakerSettings{Failures: 2, Open: time.Hour},
		Retry:   policy,
		Logger:  hclog.NewNullLogger(),
		Metrics: m,
		Status:  registry,
	})
	t.Cleanup(route.Close)
	return route, inst, rec, registry
}

func TestMetricsCountAttemptsRetriesFailuresAndTransitions(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	fleet.setBehavior("b", instanceBehavior{err: clientError})
	policy := RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: 20 * time.Millisecond, Budget: time.Second}
	route, _, rec, _ := newObservedRoute(t, fleet, policy, "a", "b", "c")
	call(route) // a 500, then b 400: the answer, one retry
	call(route) // b 400
	call(route) // c ok
	call(route) // a 500 (its breaker opens), b 400
	fleet.setBehavior("b", instanceBehavior{hang: true})
	fleet.setBehavior("c", instanceBehavior{hang: true})
	_, err := route.Endpoint(context.Background(), nil) // b, c time out, a is skipped, b again
	if !errors.As(err, new(*AttemptsError)) {
		t.Fatalf("err = %v, want every attempt failed", err)
	}

	for key, want := range map[string]float64{
		"service=stringsvc,route=uppercase,upstream=a,outcome=server_error": 2,
		"service=stringsvc,route=uppercase,upstream=b,outcome=client_error": 3,
		"service=stringsvc,route=uppercase,upstream=c,outcome=ok":           1,
		"service=stringsvc,route=uppercase,upstream=b,outcome=timeout":      2,
		"service=stringsvc,route=uppercase,upstream=c,outcome=timeout":      1,
	} {
		if got := rec.attempts.get(key); got != want {
			t.Errorf("attempts{%s} = %v, want %v", key, got, want)
		}
	}
	if got := rec.durations.get("service=stringsvc,route=uppercase,upstream=a"); got != 2 {
		t.Errorf("durations observed for a = %v, want 2", got)
	}
	if got := rec.retries.get("service=stringsvc,route=uppercase"); got != 4 {
		t.Errorf("retries = %v, want 4 (one after each of a's 500s, two in the timed-out request)", got)
	}
	if got := rec.transitions.get("service=stringsvc,route=uppercase,upstream=a,from=closed,to=open"); got != 1 {
		t.Errorf("transitions of a to open = %v, want 1 (all: %v)", got, rec.transitions.values)
	}
	failed := map[string]float64{}
	for key, n := range rec.failures.values {
		if n != 0 {
			failed[key] = n
		}
	}
	if len(failed) != 1 || failed["service=stringsvc,route=uppercase,kind=attempts_failed"] != 1 {
		t.Errorf("failures = %v, want one attempts_failed: the 400s are answers, not failures", failed)
	}
	if len(rec.failures.values) != len(failureKinds) {
		t.Errorf("failure series %v, want one per kind from the start", rec.failures.values)
	}
}

func TestRegistryShowsEachInstanceEndpointWhileItIsKnown(t *testing.T) {
	fleet := newFleet()
	fleet.setBehavior("a", instanceBehavior{err: serverError})
	fleet.setBehavior("b", instanceBehavior{err: clientError})
	route, instancer, _, registry := newObservedRoute(t, fleet, RetryPolicy{Idempotent: true, Attempts: 1, TryTimeout: time.Second, Budget: time.Second}, "a", "b")
	for range 4 { // a, b, a, b: a fails twice and opens; b's 400s count for it
		call(route)
	}
	got := registry.Snapshot()
	if len(got) != 2 || got[0].Instance != "a" || got[1].Instance != "b" {
		t.Fatalf("snapshot = %+v, want a then b", got)
	}
	a, b := got[0], got[1]
	if a.Route != "uppercase" || a.Breaker != "open" || a.Attempts != 2 || a.Failures != 2 ||
		!strings.Contains(a.LastError, "500") || a.LastErrorAt.IsZero() || a.Added.IsZero() {
		t.Errorf("a = %+v, want open after 2 failed attempts, with the 500 as last error", a)
	}
	if b.Breaker != "closed" || b.Attempts != 2 || b.Failures != 0 || b.LastError != "" || b.ConsecutiveFailures != 0 {
		t.Errorf("b = %+v, want closed with 2 attempts and no failure (a 400 is an answer)", b)
	}

	instancer.set(sd.Event{Instances: []string{"b"}})
	if got := registry.Snapshot(); len(got) != 1 || got[0].Instance != "b" {
		t.Fatalf("after a left: %+v, want only b", got)
	}
	instancer.set(sd.Event{Instances: []string{"a", "b"}})
	if got := registry.Snapshot(); len(got) != 2 || got[0].Breaker != "closed" || got[0].Attempts != 0 {
		t.Fatalf("after a came back: %+v, want a fresh, closed a", got)
	}
}
