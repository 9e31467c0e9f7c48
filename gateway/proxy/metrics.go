package proxy

import (
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
)

// Metrics are what the request path records, as go-kit metrics (Prometheus in the gateway, see
// cmd/gateway/metrics.go). Each field names its labels; every metric of a route carries the
// label service too. A nil field records nothing. Gauges of the current state (instances, breaker
// states, panic mode) are not here: the gateway reads them from the StatusBoard at each scrape
// (package status), so that a route or instance that goes takes its series along.
type Metrics struct {
	// Attempts counts the attempts sent to instances. Labels: route, upstream (the instance's address), outcome (ok,
	// client_error, server_error, timeout, transport, not_sent, canceled: see outcome.go).
	Attempts metrics.Counter
	// AttemptDuration observes each attempt's time in seconds. Labels: route, upstream.
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
	// BreakerTransitions counts breaker state changes. Labels: route, upstream, from, to.
	BreakerTransitions metrics.Counter
	// Ejections counts breakers opened, by why. Labels: route, upstream, reason
	// (consecutive_failures, failure_rate, latency).
	Ejections metrics.Counter
	// Shed counts requests shed by admission control. Label: service.
	Shed metrics.Counter
	// AdmissionWait observes how long queued requests waited for admission, in seconds. Label: service.
	AdmissionWait metrics.Histogram
}

// fields returns a pointer to each of m's metrics, by kind.
func (m *Metrics) fields() ([]*metrics.Counter, []*metrics.Histogram) {
	return []*metrics.Counter{&m.Attempts, &m.Retries, &m.Hedges, &m.RetryBudgetExhausted, &m.Failures, &m.BreakerTransitions, &m.Ejections, &m.Shed},
		[]*metrics.Histogram{&m.AttemptDuration, &m.AdmissionWait}
}

// with returns m with the label values bound on every metric.
func (m Metrics) with(labelValues ...string) Metrics {
	counters, histograms := m.fields()
	for _, c := range counters {
		*c = (*c).With(labelValues...)
	}
	for _, h := range histograms {
		*h = (*h).With(labelValues...)
	}
	return m
}

// orDiscard returns m with every nil field replaced by a metric that records nothing.
func (m Metrics) orDiscard() Metrics {
	counters, histograms := m.fields()
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
	return m
}
