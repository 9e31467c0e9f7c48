// Package status shows what the gateway knows of its instances, as it is now: the /status page
// (JSON for programs, HTML for people; one handler, see Handler) and the breaker-state gauge of
// the gateway's Prometheus metrics (see Collector). Both read proxy.Registry, which lists each
// instance endpoint while discovery knows it, and discovery.Sightings, which tells when Consul
// last listed each instance.
package status

import (
	"time"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/proxy"
)

// Report is the /status document.
type Report struct {
	GeneratedAt time.Time       `json:"generated_at"`
	Services    []ServiceReport `json:"services"`
}

// ServiceReport is one service the gateway routes to.
type ServiceReport struct {
	Name      string           `json:"name"`
	Instances []InstanceReport `json:"instances"`
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
}

// Build makes the report of service from the registry's endpoints and the sightings (nil: none)
// at now.
func Build(service string, registry *proxy.Registry, sightings *discovery.Sightings, now time.Time) Report {
	svc := ServiceReport{Name: service, Instances: []InstanceReport{}}
	for _, ep := range registry.Snapshot() { // sorted by instance: an instance's routes are adjacent
		if n := len(svc.Instances); n == 0 || svc.Instances[n-1].Address != ep.Instance {
			svc.Instances = append(svc.Instances, newInstanceReport(ep.Instance, sightings, now))
		}
		in := &svc.Instances[len(svc.Instances)-1]
		state := RouteState{
			Route:               ep.Route,
			Breaker:             ep.Breaker,
			ConsecutiveFailures: ep.ConsecutiveFailures,
			Attempts:            ep.Attempts,
			Failures:            ep.Failures,
			LastError:           ep.LastError,
			Since:               ep.Added.UTC(),
		}
		if !ep.LastErrorAt.IsZero() {
			at := ep.LastErrorAt.UTC()
			state.LastErrorAt = &at
		}
		in.Routes = append(in.Routes, state)
	}
	return Report{GeneratedAt: now.UTC(), Services: []ServiceReport{svc}}
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
