package status

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/gokit-nomad/gateway/proxy"
)

// breakerStates are the values of gateway_breaker_state.
var breakerStates = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// Collector exports each known instance endpoint's breaker state as the gauge
// gateway_breaker_state{route, instance}: 0 closed, 1 half-open, 2 open.
//
// It reads the registry at each scrape instead of being a go-kit Gauge set on each transition:
// a go-kit Gauge cannot delete a series, so an instance that left while its breaker was open would
// stay reported open until the gateway restarts, and alerts on it would never clear.
type Collector struct {
	registry *proxy.Registry
	desc     *prometheus.Desc
}

// NewCollector returns the Collector of registry's breakers.
func NewCollector(registry *proxy.Registry) *Collector {
	return &Collector{
		registry: registry,
		desc: prometheus.NewDesc("gateway_breaker_state",
			"State of each instance endpoint's circuit breaker: 0 closed, 1 half-open, 2 open.",
			[]string{"route", "instance"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, ep := range c.registry.Snapshot() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, breakerStates[ep.Breaker], ep.Route, ep.Instance)
	}
}
