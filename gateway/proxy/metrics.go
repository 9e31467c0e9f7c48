package proxy

import (
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
)

// Metrics are what the request path records, as go-kit metrics (Prometheus in the gateway, see
// cmd/gateway/metrics.go). Each field names its labels. A nil field records nothing.
type Metrics struct {
	// Attempts counts the attempts sent to instances. Labels: route, instance, outcome (see
	// attemptOutcome: ok, client_error, server_error, timeout, transport, canceled).
	Attempts metrics.Counter
	// AttemptDuration observes each attempt's time in seconds. Labels: route, instance.
	AttemptDuration metrics.Histogram
	// Retries counts the attempts after a request's first. Label: route.
	Retries metrics.Counter
	// Failures counts the requests the gateway failed, by kind (see FailureKind). Labels: route, kind.
	Failures metrics.Counter
	// BreakerTransitions counts breaker state changes. Labels: route, instance, from, to.
	BreakerTransitions metrics.Counter
	// Instances is the number of instances a route knows. Label: route.
	Instances metrics.Gauge
}

// orDiscard returns m with every nil field replaced by a metric that records nothing.
func (m Metrics) orDiscard() Metrics {
	if m.Attempts == nil {
		m.Attempts = discard.NewCounter()
	}
	if m.AttemptDuration == nil {
		m.AttemptDuration = discard.NewHistogram()
	}
	if m.Retries == nil {
		m.Retries = discard.NewCounter()
	}
	if m.Failures == nil {
		m.Failures = discard.NewCounter()
	}
	if m.BreakerTransitions == nil {
		m.BreakerTransitions = discard.NewCounter()
	}
	if m.Instances == nil {
		m.Instances = discard.NewGauge()
	}
	return m
}
