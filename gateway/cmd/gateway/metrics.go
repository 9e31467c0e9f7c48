package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/kitprom"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/status"
)

// latencyBuckets span the gateway's latencies: from half a millisecond (a request to a healthy
// instance on the same host) to 2 s (beyond the default 1 s budget).
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 13)

// telemetry are the gateway's Prometheus metrics, served at GET /metrics.
type telemetry struct {
	registry *prometheus.Registry
	proxy    proxy.Metrics      // the request path's, per instance
	requests *kitprom.Counter   // per service, route and status code
	duration *kitprom.Histogram // per service and route
}

// newTelemetry registers the gateway's metrics, the gauges read from statuses (package status),
// Consul's reachability and Go's runtime and process metrics in a registry of its own (so that
// every handler built in a test has its own too).
func newTelemetry(statuses *proxy.StatusBoard, consul *discovery.Health) telemetry {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, labels ...string) *kitprom.Counter {
		cv := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "gateway", Name: name, Help: help}, labels)
		reg.MustRegister(cv)
		return kitprom.NewCounter(cv)
	}
	histogram := func(name, help string, labels ...string) *kitprom.Histogram {
		hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "gateway", Name: name, Help: help, Buckets: latencyBuckets}, labels)
		reg.MustRegister(hv)
		return kitprom.NewHistogram(hv)
	}
	reg.MustRegister(
		status.NewCollector(statuses, consul),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return telemetry{
		registry: reg,
		requests: counter("requests_total", "Requests answered, by service, route and status code.", "service", "route", "code"),
		duration: histogram("request_duration_seconds", "Time to answer a request, by service and route.", "service", "route"),
		proxy: proxy.Metrics{
			Attempts:             counter("upstream_attempts_total", "Attempts sent to instances, by route, upstream (instance address) and outcome (ok, client_error, server_error, timeout, transport, not_sent, canceled).", "service", "route", "upstream", "outcome"),
			AttemptDuration:      histogram("upstream_attempt_duration_seconds", "Time of each attempt on an instance, by route and upstream.", "service", "route", "upstream"),
			Retries:              counter("retries_total", "Attempts sent after one failed, by route.", "service", "route"),
			Hedges:               counter("hedges_total", "Hedged attempts, by route and result (sent; won: answered first).", "service", "route", "result"),
			RetryBudgetExhausted: counter("retry_budget_exhausted_total", "Retries and hedges the retry budget refused, by route.", "service", "route"),
			Ejections:            counter("ejections_total", "Instances ejected (breaker opened), by route, upstream and reason (consecutive_failures, failure_rate, latency).", "service", "route", "upstream", "reason"),
			Shed:                 counter("admission_shed_total", "Requests shed by admission control (503), by service.", "service"),
			AdmissionWait:        histogram("admission_wait_seconds", "Time requests waited for admission, by service (only those that waited).", "service"),
			Failures:             counter("failures_total", "Requests the gateway failed, by route and kind (no_instances, breakers_open, shed, unreachable, budget_exhausted, attempts_failed, other).", "service", "route", "kind"),
			BreakerTransitions:   counter("breaker_transitions_total", "Circuit breaker state changes, by route, upstream, from and to.", "service", "route", "upstream", "from", "to"),
		},
	}
}
