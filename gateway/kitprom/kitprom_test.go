package kitprom

import (
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestValuesGoToTheSeriesOfTheirLabels(t *testing.T) {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c"}, []string{"route", "code"})
	gv := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "g"}, []string{"route"})
	hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: []float64{1}}, []string{"route"})
	route := NewCounter(cv).With("route", "a")
	ok, failed := route.With("code", "200"), route.With("code", "500")
	for range 3 {
		ok.Add(1)
	}
	failed.Add(2)
	NewCounter(cv).With("route", "b", "code", "200").Add(5)
	for name, want := range map[string]float64{"a 200": 3, "a 500": 2, "b 200": 5} {
		lv := strings.Fields(name)
		if got := testutil.ToFloat64(cv.WithLabelValues(lv...)); got != want {
			t.Errorf("counter %s = %v, want %v", name, got, want)
		}
	}

	gauge := NewGauge(gv).With("route", "a")
	gauge.Set(4)
	gauge.Add(-1)
	if got := testutil.ToFloat64(gv.WithLabelValues("a")); got != 3 {
		t.Errorf("gauge = %v, want 3", got)
	}

	h := NewHistogram(hv).With("route", "a")
	h.Observe(0.5)
	h.Observe(2)
	if got := testutil.CollectAndCount(hv); got != 1 {
		t.Errorf("histogram series = %d, want 1", got)
	}
	want := `
		# HELP h h
		# TYPE h histogram
		h_bucket{route="a",le="1"} 1
		h_bucket{route="a",le="+Inf"} 2
		h_sum{route="a"} 2.5
		h_count{route="a"} 2
	`
	if err := testutil.CollectAndCompare(hv, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestAMissingValueIsUnknownAndWithLeavesTheParentAlone(t *testing.T) {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c"}, []string{"route", "code"})
	parent := NewCounter(cv).With("route", "a").(*Counter)
	parent.With("code") // odd: "unknown"
	parent.With("code").Add(1)
	if got := testutil.ToFloat64(cv.WithLabelValues("a", "unknown")); got != 1 {
		t.Errorf("counter a unknown = %v, want 1", got)
	}
	if len(parent.labels) != 2 {
		t.Errorf("parent labels = %q, want route a only", parent.labels)
	}
	// Two children of one parent whose label slice has spare room must not share it.
	base := &Counter{vec: cv, series: series[prometheus.Counter]{labels: make([]string, 2, 8)}}
	copy(base.labels, []string{"route", "x"})
	one, two := base.With("code", "1"), base.With("code", "2")
	one.Add(1)
	two.Add(1)
	if got := testutil.ToFloat64(cv.WithLabelValues("x", "1")); got != 1 {
		t.Errorf("counter x 1 = %v, want 1 (children share a label slice?)", got)
	}
}

func TestConcurrentFirstUseCountsEveryAdd(t *testing.T) {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c"}, []string{"route"})
	c := NewCounter(cv).With("route", "a")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add(1)
			}
		})
	}
	wg.Wait()
	if got := testutil.ToFloat64(cv.WithLabelValues("a")); got != 8000 {
		t.Errorf("counter = %v, want 8000", got)
	}
}
