package proxy

import (
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
)

// Metrics are what the request path records, as go-kit metrics (Prometheus in the gateway, see
// cmd/gateway/metrics.go). Each field names its labels; every metric of a route carries the
// label service too. A nil field records nothing.
type Metrics struct {
	// Attempts counts the attempts sent to instances. Labels: route, instance, outcome (ok,
	// client_error, server_error, timeout, transport, not_sent, canceled: see outcome.go).
	Attempts metrics.Counter
	// AttemptDuration observes each attempt's time in seconds. Labels: route, instance.
	AttemptDuration metrics.Histogram
	// Retries counts the attempts sent after one failed. Label: route.
	Retries metrics.Counter
	// Hedges counts hedged attempts: result "sent", and "won" when a hedge answered first.
	// Labels: route, result.
	Hedges metrics.Counter
	// RetryBudgetExhausted counts the retries and hedges the retry budget refused. Label: route.
	RetryBudgetExhausted metrics.Counter
	// Failures counts the requests the gateway failed, by kind (see FailureKind). Labels: route, kind.
	Failures metrics.Counter
	// BreakerTransitions counts breaker state changes. Labels: route, instance, from, to.
	BreakerTransitions metrics.Counter
	// Ejections counts breakers opened, by why. Labels: route, instance, reason
	// (consecutive_failures, failure_rate, latency).
	Ejections metrics.Counter
	// Panic is 1 while a route is in panic mode. Label: route.
	Panic metrics.Gauge
	// Instances is the number of instances a route knows. Label: route.
	Instances metrics.Gauge
	// Shed counts requests shed by admission control. Label: service.
	Shed metrics.Counter
	// AdmissionWait observes how long queued requests waited for admission, in seconds. Label: service.
	AdmissionWait metrics.Histogram
}

// fields returns a pointer to each of m's metrics, by kind.
func (m *Metrics) fields() ([]*metrics.Counter, []*metrics.Histogram, []*metrics.Gauge) {
	return []*metrics.Counter{&m.Attempts, &m.Retries, &m.Hedges, &m.RetryBudgetExhausted, &m.Failures, &m.BreakerTransitions, &m.Ejections, &m.Shed},
		[]*metrics.Histogram{&m.AttemptDuration, &m.AdmissionWait},
		[]*metrics.Gauge{&m.Panic, &m.Instances}
}

// with returns m with the label values bound on every metric.
func (m Metrics) with(labelValues ...string) Metrics {
	counters, histograms, gauges := m.fields()
	for _, c := range counters {
		*c = (*c).With(labelValues...)
	}
	for _, h := range histograms {
		*h = (*h).With(labelValues...)
	}
	for _, g := range gauges {
		*g = (*g).With(labelValues...)
	}
	return m
}

// orDiscard returns m with every nil field replaced by a metric that records nothing.
func (m Metrics) orDiscard() Metrics {
	counters, histograms, gauges := m.fields()
	for _, c := range counters {
		if *c == nil {
			*c = discard.NewCounter()
		}
	}
	for _, h := range histograms {
		if *h == nil {
			*h = discard.NewHistogram()
		}
	}
	for _, g := range gauges {
		if *g == nil {
			*g = discard.NewGauge()
		}
	}
	return m
}
