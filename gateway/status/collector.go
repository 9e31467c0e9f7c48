package status

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/proxy"
)

// breakerStates are the values of gateway_breaker_state.
var breakerStates = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// Collector exports each known instance endpoint's breaker state as the gauge
// gateway_breaker_state{service, route, upstream}: 0 closed, 1 half-open, 2 open. The label is
// upstream, not instance: Prometheus gives every scraped series an instance label of its own, the
// gateway's address.
//
// It reads the board at each scrape instead of being a go-kit Gauge set on each transition:
// a go-kit Gauge cannot delete a series, so an instance that left while its breaker was open would
// stay reported open until the gateway restarts, and alerts on it would never clear.
//
// It also exports, read the same way, each service's admission control
// (gateway_admission_limit, gateway_admission_in_flight, gateway_admission_queued{service}) and
// each route's instances, ejections, panic mode and retry budget (gateway_instances,
// gateway_instances_ejected, gateway_panic, gateway_retry_budget_left{service, route}), and what
// the gateway's failing static hides: whether Consul answers it (gateway_consul_reachable), and
// whether Consul lists no passing instance of a routed service while its routes keep the last
// known ones (gateway_consul_no_passing{service}).
type Collector struct {
	board                            *proxy.StatusBoard
	desc                             *prometheus.Desc
	limit, inFlight, queued, retries *prometheus.Desc
	instances, ejected, panic        *prometheus.Desc
	consul                           *discovery.Health
	consulReachable, noPassing       *prometheus.Desc
}

// NewCollector returns the Collector of board and consul (nil: Consul never answers).
func NewCollector(board *proxy.StatusBoard, consul *discovery.Health) *Collector {
	return &Collector{
		board:  board,
		consul: consul,
		consulReachable: prometheus.NewDesc("gateway_consul_reachable",
			"1 while the gateway's watch of Consul's catalog gets answers; 0 while Consul is unreachable (the routes stay as they were).", nil, nil),
		noPassing: prometheus.NewDesc("gateway_consul_no_passing",
			"1 while Consul lists no passing instance of a routed service and its routes keep the last known ones (fail static).", []string{"service"}, nil),
		desc: prometheus.NewDesc("gateway_breaker_state",
			"State of each instance endpoint's circuit breaker: 0 closed, 1 half-open, 2 open.",
			[]string{"service", "route", "upstream"}, nil),
		limit:    prometheus.NewDesc("gateway_admission_limit", "Adaptive limit on requests in flight to a service.", []string{"service"}, nil),
		inFlight: prometheus.NewDesc("gateway_admission_in_flight", "Requests admitted and in flight to a service.", []string{"service"}, nil),
		queued:   prometheus.NewDesc("gateway_admission_queued", "Requests waiting for admission to a service.", []string{"service"}, nil),
		retries:  prometheus.NewDesc("gateway_retry_budget_left", "Retries and hedges a route's retry budget allows now.", []string{"service", "route"}, nil),
		instances: prometheus.NewDesc("gateway_instances",
			"Instances each route knows (passing in Consul, or kept while Consul is unreachable).", []string{"service", "route"}, nil),
		ejected: prometheus.NewDesc("gateway_instances_ejected", "Instances of each route ejected now (breaker opened).", []string{"service", "route"}, nil),
		panic: prometheus.NewDesc("gateway_panic",
			"1 while a route ignores ejections because too few instances look healthy.", []string{"service", "route"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.desc, c.limit, c.inFlight, c.queued, c.retries, c.instances, c.ejected, c.panic, c.consulReachable, c.noPassing} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.consulReachable, prometheus.GaugeValue, boolValue(c.consul.Reachable()))
	for _, ep := range c.board.Snapshot() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, breakerStates[ep.Breaker], ep.Service, ep.Route, ep.Instance)
	}
	for _, a := range c.board.Admissions() {
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(a.Limit), a.Service)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(a.InFlight), a.Service)
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(a.Queued), a.Service)
	}
	routes := c.board.Routes()
	services := map[string]bool{}
	for _, r := range routes {
		services[r.Service] = true
	}
	for service := range services {
		ch <- prometheus.MustNewConstMetric(c.noPassing, prometheus.GaugeValue, boolValue(c.consul.NoPassing(service)), service)
	}
	for _, r := range routes {
		ch <- prometheus.MustNewConstMetric(c.retries, prometheus.GaugeValue, r.RetryBudgetLeft, r.Service, r.Route)
		ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(r.Instances), r.Service, r.Route)
		ch <- prometheus.MustNewConstMetric(c.ejected, prometheus.GaugeValue, float64(r.Ejected), r.Service, r.Route)
		ch <- prometheus.MustNewConstMetric(c.panic, prometheus.GaugeValue, boolValue(r.Panic), r.Service, r.Route)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
