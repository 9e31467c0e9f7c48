// Package kitprom provides go-kit metrics (metrics.Counter, Gauge and Histogram) backed by
// Prometheus vectors, as go-kit's metrics/prometheus does, with one difference that matters on a
// hot path: a value returned by With finds its Prometheus series once, on its first use, and
// keeps it. go-kit's adapter builds a label map and looks the series up on every Add and Observe
// (two allocations and a hash per call); the gateway records four metrics per request, on values
// it made once per route and instance (bench/README.md, "Figures behind the code").
//
// Series are never deleted from the vectors (a value would keep a series that was), and label
// values follow go-kit's rules: name, value pairs, "unknown" for a missing value.
package kitprom

import (
	"sync/atomic"

	"github.com/go-kit/kit/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// Counter is a metrics.Counter over a CounterVec.
type Counter struct {
	vec *prometheus.CounterVec
	series[prometheus.Counter]
}

// NewCounter returns a Counter over vec, with no label values yet.
func NewCounter(vec *prometheus.CounterVec) *Counter { return &Counter{vec: vec} }

// With returns a Counter with labelValues (name, value pairs) added to c's.
func (c *Counter) With(labelValues ...string) metrics.Counter {
	return &Counter{vec: c.vec, series: series[prometheus.Counter]{labels: with(c.labels, labelValues)}}
}

// Add adds delta to the series of c's label values.
func (c *Counter) Add(delta float64) { c.get(c.vec.With).Add(delta) }

// Gauge is a metrics.Gauge over a GaugeVec.
type Gauge struct {
	vec *prometheus.GaugeVec
	series[prometheus.Gauge]
}

// NewGauge returns a Gauge over vec, with no label values yet.
func NewGauge(vec *prometheus.GaugeVec) *Gauge { return &Gauge{vec: vec} }

// With returns a Gauge with labelValues (name, value pairs) added to g's.
func (g *Gauge) With(labelValues ...string) metrics.Gauge {
	return &Gauge{vec: g.vec, series: series[prometheus.Gauge]{labels: with(g.labels, labelValues)}}
}

// Set sets the series of g's label values to value.
func (g *Gauge) Set(value float64) { g.get(g.vec.With).Set(value) }

// Add adds delta to the series of g's label values.
func (g *Gauge) Add(delta float64) { g.get(g.vec.With).Add(delta) }

// Histogram is a metrics.Histogram over a HistogramVec.
type Histogram struct {
	vec *prometheus.HistogramVec
	series[prometheus.Observer]
}

// NewHistogram returns a Histogram over vec, with no label values yet.
func NewHistogram(vec *prometheus.HistogramVec) *Histogram { return &Histogram{vec: vec} }

// With returns a Histogram with labelValues (name, value pairs) added to h's.
func (h *Histogram) With(labelValues ...string) metrics.Histogram {
	return &Histogram{vec: h.vec, series: series[prometheus.Observer]{labels: with(h.labels, labelValues)}}
}

// Observe adds value to the series of h's label values.
func (h *Histogram) Observe(value float64) { h.get(h.vec.With).Observe(value) }

// series is one metric value's label values and, once used, its Prometheus series.
type series[T any] struct {
	labels []string // name, value pairs
	found  atomic.Pointer[T]
}

// get returns the series of s's labels, looking it up with lookup the first time. Two
// goroutines may both look it up at first: the vector returns the same series to both.
func (s *series[T]) get(lookup func(prometheus.Labels) T) T {
	if found := s.found.Load(); found != nil {
		return *found
	}
	labels := make(prometheus.Labels, len(s.labels)/2)
	for i := 0; i < len(s.labels); i += 2 {
		labels[s.labels[i]] = s.labels[i+1]
	}
	found := lookup(labels)
	s.found.Store(&found)
	return found
}

// with returns labels followed by more, in a slice of its own; a name without a value gets
// "unknown", as go-kit's adapters do.
func with(labels, more []string) []string {
	if len(more)%2 != 0 {
		more = append(more[:len(more):len(more)], "unknown")
	}
	return append(labels[:len(labels):len(labels)], more...)
}
