// Package status shows what the gateway knows of its services, routes and instances, as it is
// now: the /status page (JSON for programs, HTML for people; one handler, see Handler) and the
// state gauges of the gateway's Prometheus metrics (see Collector). They read the route table
// (routing.Snapshot: the live routes, conflicts, refused tags), proxy.StatusBoard, which lists
// each instance endpoint while discovery knows it, and discovery.Sightings, which tells when
// Consul last listed each instance.
package status

import (
	"time"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/routing"
)

// Report is the /status document.
type Report struct {
	GeneratedAt time.Time       `json:"generated_at"`
	Services    []ServiceReport `json:"services"`
	// Conflicts are routes refused because another claims their method and path first.
	Conflicts []ConflictReport `json:"conflicts"`
	// InvalidTags are route tags that do not parse.
	InvalidTags []InvalidTag `json:"invalid_tags"`
}

// ConflictReport is one refused route and the one that keeps its method and path.
type ConflictReport struct {
	Route   string `json:"route"`
	Kept    string `json:"kept"`
	Refused string `json:"refused"`
}

// InvalidTag is a route tag of a service that does not parse.
type InvalidTag struct {
	Service string `json:"service"`
	Tag     string `json:"tag"`
	Err     string `json:"err"`
}

// RoutesSource gives the route table's state (a *routing.Table).
type RoutesSource interface{ Snapshot() routing.Snapshot }

// ServiceReport is one service the gateway routes to.
type ServiceReport struct {
	Name      string           `json:"name"`
	Admission *AdmissionReport `json:"admission,omitempty"` // null: no admission control
	Routes    []RouteReport    `json:"routes"`
	Instances []InstanceReport `json:"instances"`
}

// AdmissionReport is the service's admission control: its adaptive limit on requests in
// flight, the queue in front of it, and what it shed.
type AdmissionReport struct {
	Limit          int     `json:"limit"`
	InFlight       int     `json:"in_flight"`
	Queued         int     `json:"queued"`
	MeanWaitMillis float64 `json:"mean_wait_ms"` // of recent requests that had to wait
	MeanTimeMillis float64 `json:"mean_time_ms"` // of recent admitted requests
	Waited         uint64  `json:"waited"`       // requests that queued, since start
	Shed           uint64  `json:"shed"`         // requests answered 503 at once, since start
}

// RouteReport is one route: where it goes, its policy, panic mode, its retry budget and its hedges.
type RouteReport struct {
	Route             string  `json:"route"` // "<METHOD> <public path>"
	Upstream          string  `json:"upstream"`
	Source            string  `json:"source"` // consul, or the routes file
	Idempotent        bool    `json:"idempotent"`
	Attempts          int     `json:"attempts"`
	TryTimeoutMillis  float64 `json:"try_timeout_ms"`
	BudgetMillis      float64 `json:"budget_ms"`
	Hedge             bool    `json:"hedge"`
	BodyLimit         int64   `json:"body_limit"`
	Instances         int     `json:"instances"`
	Ejected           int     `json:"ejected"`
	Panic             bool    `json:"panic"` // too few instances look healthy: ejections are ignored
	RetryBudgetLeft   float64 `json:"retry_budget_left"`
	RetryBudgetDenied uint64  `json:"retry_budget_denied"`
	HedgeDelayMillis  float64 `json:"hedge_delay_ms"` // 0: hedging off
	HedgesSent        uint64  `json:"hedges_sent"`
	HedgesWon         uint64  `json:"hedges_won"`
}

// InstanceReport is one instance and its endpoint on each route.
type InstanceReport struct {
	Address string `json:"address"`
	// LastSeenInConsul is when Consul last listed the instance as passing (null: not since the
	// gateway started); SeenSecondsAgo is the age of that, when the report was made.
	LastSeenInConsul *time.Time   `json:"last_seen_in_consul"`
	SeenSecondsAgo   *float64     `json:"seen_seconds_ago"`
	Routes           []RouteState `json:"routes"`
}

// RouteState is the instance's endpoint on one route: its breaker and what it was sent.
// ConsecutiveFailures is the breaker's own count, which restarts at each state change (an open
// breaker shows 0); Failures counts every failure since the instance was added.
type RouteState struct {
	Route               string     `json:"route"`
	Breaker             string     `json:"breaker"` // closed, half-open or open
	ConsecutiveFailures uint32     `json:"consecutive_failures"`
	Attempts            uint64     `json:"attempts"`
	Failures            uint64     `json:"failures"`
	LastError           string     `json:"last_error,omitempty"`
	LastErrorAt         *time.Time `json:"last_error_at,omitempty"`
	Since               time.Time  `json:"since"` // when discovery added the instance to the route
	// EjectedReason says why the instance is out of rotation (consecutive_failures,
	// failure_rate, latency), EjectedUntil until when; Ejections counts them in a row.
	EjectedReason string     `json:"ejected_reason,omitempty"`
	EjectedUntil  *time.Time `json:"ejected_until,omitempty"`
	Ejections     int        `json:"ejections"`
	// Flagged: the last window judged it an outlier, but the cap or panic mode keeps it in.
	Flagged string `json:"flagged,omitempty"`
	// The last window (see -outlier-interval): attempts, share failed, mean latency.
	WindowAttempts    int64   `json:"window_attempts"`
	WindowFailureRate float64 `json:"window_failure_rate"`
	WindowLatencyMs   float64 `json:"window_latency_ms"`
}

// Build makes the report from the route table, the board's routes and endpoints and the
// sightings (nil: none) at now: one ServiceReport per service with a live route.
func Build(routes RoutesSource, board *proxy.StatusBoard, sightings *discovery.Sightings, now time.Time) Report {
	table := routes.Snapshot()
	report := Report{GeneratedAt: now.UTC(), Services: []ServiceReport{}, Conflicts: []ConflictReport{}, InvalidTags: []InvalidTag{}}
	states := map[string]proxy.RouteStatus{}
	for _, r := range board.Routes() {
		states[r.Route] = r
	}
	for _, spec := range table.Routes { // sorted by service: a service's routes are adjacent
		if n := len(report.Services); n == 0 || report.Services[n-1].Name != spec.Service {
			report.Services = append(report.Services, ServiceReport{Name: spec.Service, Routes: []RouteReport{}, Instances: []InstanceReport{}})
		}
		svc := &report.Services[len(report.Services)-1]
		r := states[spec.Key()]
		svc.Routes = append(svc.Routes, RouteReport{Route: spec.Key(), Upstream: spec.Upstream, Source: spec.Source,
			Idempotent: spec.Policy.Idempotent, Attempts: spec.Policy.Attempts, TryTimeoutMillis: millis(spec.Policy.TryTimeout),
			BudgetMillis: millis(spec.Policy.Budget), Hedge: spec.Policy.Hedge, BodyLimit: spec.Policy.BodyLimit,
			Instances: r.Instances, Ejected: r.Ejected, Panic: r.Panic, RetryBudgetLeft: r.RetryBudgetLeft,
			RetryBudgetDenied: r.RetryBudgetDenied, HedgeDelayMillis: millis(r.HedgeDelay), HedgesSent: r.HedgesSent, HedgesWon: r.HedgesWon})
	}
	byName := map[string]*ServiceReport{}
	for i := range report.Services {
		byName[report.Services[i].Name] = &report.Services[i]
	}
	for _, a := range board.Admissions() {
		if svc := byName[a.Service]; svc != nil {
			svc.Admission = &AdmissionReport{Limit: a.Limit, InFlight: a.InFlight, Queued: a.Queued,
				MeanWaitMillis: millis(a.MeanWait), MeanTimeMillis: millis(a.MeanTime), Waited: a.Waited, Shed: a.Shed}
		}
	}
	for _, ep := range board.Snapshot() { // by service, then instance: an instance's routes are adjacent
		svc := byName[ep.Service]
		if svc == nil {
			continue
		}
		if n := len(svc.Instances); n == 0 || svc.Instances[n-1].Address != ep.Instance {
			svc.Instances = append(svc.Instances, newInstanceReport(ep.Instance, sightings, now))
		}
		in := &svc.Instances[len(svc.Instances)-1]
		in.Routes = append(in.Routes, routeState(ep))
	}
	for _, c := range table.Conflicts {
		report.Conflicts = append(report.Conflicts, ConflictReport{Route: c.Refused.Key(),
			Kept: c.Kept.Claim(), Refused: c.Refused.Claim()})
	}
	for _, inv := range table.Invalid {
		report.InvalidTags = append(report.InvalidTags, InvalidTag(inv))
	}
	return report
}

func routeState(ep proxy.EndpointStatus) RouteState {
	state := RouteState{
		Route:               ep.Route,
		Breaker:             ep.Breaker,
		ConsecutiveFailures: ep.ConsecutiveFailures,
		Attempts:            ep.Attempts,
		Failures:            ep.Failures,
		LastError:           ep.LastError,
		Since:               ep.Added.UTC(),
		EjectedReason:       ep.EjectedReason,
		Ejections:           ep.Ejections,
		Flagged:             ep.Flagged,
		WindowAttempts:      ep.WindowRequests,
		WindowFailureRate:   ep.WindowFailureRate,
		WindowLatencyMs:     millis(ep.WindowLatency),
	}
	if ep.Ejected && !ep.EjectedUntil.IsZero() {
		until := ep.EjectedUntil.UTC()
		state.EjectedUntil = &until
	}
	if !ep.LastErrorAt.IsZero() {
		at := ep.LastErrorAt.UTC()
		state.LastErrorAt = &at
	}
	return state
}

func newInstanceReport(address string, sightings *discovery.Sightings, now time.Time) InstanceReport {
	in := InstanceReport{Address: address}
	if sightings == nil {
		return in
	}
	if seen, ok := sightings.LastSeen(address); ok {
		at, ago := seen.UTC(), now.Sub(seen).Seconds()
		in.LastSeenInConsul, in.SeenSecondsAgo = &at, &ago
	}
	return in
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
