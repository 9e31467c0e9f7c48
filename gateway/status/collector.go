package status

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/gokit-nomad/gateway/proxy"
)

// breakerStates are the values of gateway_breaker_state.
var breakerStates = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// Collector exports each known instance endpoint's breaker state as the gauge
// gateway_breaker_state{service, route, instance}: 0 closed, 1 half-open, 2 open.
//
// It reads the board at each scrape instead of being a go-kit Gauge set on each transition:
// a go-kit Gauge cannot delete a series, so an instance that left while its breaker was open would
// stay reported open until the gateway restarts, and alerts on it would never clear.
//
// It also exports, read the same way, each service's admission control
// (gateway_admission_limit, gateway_admission_in_flight, gateway_admission_queued{service}) and
// each route's retry budget (gateway_retry_budget_left{service, route}).
type Collector struct {
	board                            *proxy.StatusBoard
	desc                             *prometheus.Desc
	limit, inFlight, queued, retries *prometheus.Desc
}

// NewCollector returns the Collector of board's breakers.
func NewCollector(board *proxy.StatusBoard) *Collector {
	return &Collector{
		board: board,
		desc: prometheus.NewDesc("gateway_breaker_state",
			"State of each instance endpoint's circuit breaker: 0 closed, 1 half-open, 2 open.",
			[]string{"service", "route", "instance"}, nil),
		limit:    prometheus.NewDesc("gateway_admission_limit", "Adaptive limit on requests in flight to a service.", []string{"service"}, nil),
		inFlight: prometheus.NewDesc("gateway_admission_in_flight", "Requests admitted and in flight to a service.", []string{"service"}, nil),
		queued:   prometheus.NewDesc("gateway_admission_queued", "Requests waiting for admission to a service.", []string{"service"}, nil),
		retries:  prometheus.NewDesc("gateway_retry_budget_left", "Retries and hedges a route's retry budget allows now.", []string{"service", "route"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.desc, c.limit, c.inFlight, c.queued, c.retries} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, ep := range c.board.Snapshot() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, breakerStates[ep.Breaker], ep.Service, ep.Route, ep.Instance)
	}
	for _, a := range c.board.Admissions() {
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(a.Limit), a.Service)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(a.InFlight), a.Service)
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(a.Queued), a.Service)
	}
	for _, r := range c.board.Routes() {
		ch <- prometheus.MustNewConstMetric(c.retries, prometheus.GaugeValue, r.RetryBudgetLeft, r.Service, r.Route)
	}
}
