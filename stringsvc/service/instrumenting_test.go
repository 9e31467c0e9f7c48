package service

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/go-kit/kit/metrics"
)

// sample is one Add or Observe on a fake metric, with the label values in force.
type sample struct {
	labels []string
	value  float64
}

// fakeMetric records every Add/Observe; it implements metrics.Counter and metrics.Histogram
// (through fakeCounter and fakeHistogram).
type fakeMetric struct {
	mu      sync.Mutex
	samples []sample
}

func (m *fakeMetric) record(labels []string, v float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, sample{labels: append([]string(nil), labels...), value: v})
}

func (m *fakeMetric) all() []sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sample(nil), m.samples...)
}

type fakeCounter struct {
	m      *fakeMetric
	labels []string
}

func (c fakeCounter) With(lvs ...string) metrics.Counter {
	return fakeCounter{m: c.m, labels: append(append([]string(nil), c.labels...), lvs...)}
}
func (c fakeCounter) Add(delta float64) { c.m.record(c.labels, delta) }

type fakeHistogram struct {
	m      *fakeMetric
	labels []string
}

func (h fakeHistogram) With(lvs ...string) metrics.Histogram {
	return fakeHistogram{m: h.m, labels: append(append([]string(nil), h.labels...), lvs...)}
}
func (h fakeHistogram) Observe(v float64) { h.m.record(h.labels, v) }

var (
	_ metrics.Counter   = fakeCounter{}
	_ metrics.Histogram = fakeHistogram{}
)

type fakeMetrics struct {
	requests, latency, countResult *fakeMetric
}

func newInstrumented(next Service) (Service, fakeMetrics) {
	fm := fakeMetrics{requests: &fakeMetric{}, latency: &fakeMetric{}, countResult: &fakeMetric{}}
	mw := InstrumentingMiddleware(fakeCounter{m: fm.requests}, fakeHistogram{m: fm.latency}, fakeHistogram{m: fm.countResult})
	return mw(next), fm
}

func TestInstrumentingMiddleware(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		call       func(Service) error
		wantLabels []string
		wantCount  []float64 // observations of countResult
	}{
		{
			name:       "uppercase ok",
			call:       func(s Service) error { _, err := s.Uppercase(context.Background(), "foo"); return err },
			wantLabels: []string{"method", "uppercase", "error", "false"},
		},
		{
			name: "uppercase error",
			call: func(s Service) error {
				if _, err := s.Uppercase(context.Background(), ""); !errors.Is(err, ErrEmpty) {
					return errors.New("want ErrEmpty")
				}
				return nil
			},
			wantLabels: []string{"method", "uppercase", "error", "true"},
		},
		{
			name: "count ok",
			call: func(s Service) error {
				n, err := s.Count(context.Background(), "héllo")
				if err == nil && n != 5 {
					return errors.New("want 5")
				}
				return err
			},
			wantLabels: []string{"method", "count", "error", "false"},
			wantCount:  []float64{5},
		},
		{
			name:       "count empty",
			call:       func(s Service) error { _, err := s.Count(context.Background(), ""); return err },
			wantLabels: []string{"method", "count", "error", "false"},
			wantCount:  []float64{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, fm := newInstrumented(New())
			if err := tt.call(svc); err != nil {
				t.Fatal(err)
			}

			reqs := fm.requests.all()
			if want := []sample{{labels: tt.wantLabels, value: 1}}; !reflect.DeepEqual(reqs, want) {
				t.Errorf("requests = %v, want %v", reqs, want)
			}
			lat := fm.latency.all()
			if len(lat) != 1 {
				t.Fatalf("latency observations = %v, want exactly 1", lat)
			}
			if !reflect.DeepEqual(lat[0].labels, tt.wantLabels) {
				t.Errorf("latency labels = %v, want %v", lat[0].labels, tt.wantLabels)
			}
			if lat[0].value < 0 {
				t.Errorf("latency = %v, want >= 0", lat[0].value)
			}
			var counts []float64
			for _, s := range fm.countResult.all() {
				if len(s.labels) != 0 {
					t.Errorf("countResult observed with labels %v, want none", s.labels)
				}
				counts = append(counts, s.value)
			}
			if !reflect.DeepEqual(counts, tt.wantCount) {
				t.Errorf("countResult observations = %v, want %v", counts, tt.wantCount)
			}
		})
	}
}

func TestInstrumentingMiddlewareCountError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	svc, fm := newInstrumented(failingService{err: boom})

	if _, err := svc.Count(context.Background(), "x"); !errors.Is(err, boom) {
		t.Fatalf("Count error = %v, want %v", err, boom)
	}
	want := []sample{{labels: []string{"method", "count", "error", "true"}, value: 1}}
	if got := fm.requests.all(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	if got := fm.latency.all(); len(got) != 1 || !reflect.DeepEqual(got[0].labels, want[0].labels) {
		t.Errorf("latency = %v, want one observation labelled %v", got, want[0].labels)
	}
}

func TestInstrumentingMiddlewareAccumulates(t *testing.T) {
	t.Parallel()
	svc, fm := newInstrumented(New())
	ctx := context.Background()
	_, _ = svc.Uppercase(ctx, "a")
	_, _ = svc.Uppercase(ctx, "")
	_, _ = svc.Count(ctx, "abc")
	_, _ = svc.Count(ctx, "ab")

	got := map[string]float64{}
	for _, s := range fm.requests.all() {
		got[s.labels[1]+"/"+s.labels[3]] += s.value
	}
	want := map[string]float64{"uppercase/false": 1, "uppercase/true": 1, "count/false": 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests by method/error = %v, want %v", got, want)
	}
	if n := len(fm.latency.all()); n != 4 {
		t.Errorf("latency observations = %d, want 4", n)
	}
	var counts []float64
	for _, s := range fm.countResult.all() {
		counts = append(counts, s.value)
	}
	if !reflect.DeepEqual(counts, []float64{3, 2}) {
		t.Errorf("countResult observations = %v, want [3 2]", counts)
	}
}
