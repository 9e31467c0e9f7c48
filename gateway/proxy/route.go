// Package proxy is the gateway's request path. For each route, and for each instance of the
// service, the instance's client endpoint is wrapped in its own circuit breaker; a round-robin
// balancer hands each request the instances in turn, and a retry loop with a per-attempt timeout
// and a total budget walks them, skipping open breakers.
//
//	HTTP front (package edge) → counting failures (route.go) → retrying (retry.go)
//	  → roundRobin (balancer.go) → per-instance breaker (breaker.go)
//	  → observing (observe.go: metrics, Registry) → instance client endpoint (package upstream)
package proxy

import (
	"context"
	"io"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/hclogkit"
)

// Settings are shared by every route of the gateway.
type Settings struct {
	Breaker BreakerSettings
	Retry   RetryPolicy
	Logger  hclog.Logger
	Metrics Metrics   // nil fields record nothing
	Status  *Registry // where the routes' instance endpoints are listed; nil: nowhere
}

// Route is one gateway path backed by every instance the instancer reports.
type Route struct {
	Name     string
	Endpoint endpoint.Endpoint
	stop     func()
}

// NewRoute subscribes to instancer through a go-kit Endpointer whose factory wraps each
// instance's client endpoint (from newClient) in that instance's own breaker. The Endpointer
// keeps the endpoint, and so the breaker, of every instance that stays in the set across updates,
// and keeps the last known set while discovery reports errors.
func NewRoute(name string, instancer sd.Instancer, newClient sd.Factory, s Settings) *Route {
	logger := s.Logger.Named(name)
	m := s.Metrics.orDiscard()
	registry := s.Status
	if registry == nil {
		registry = NewRegistry()
	}
	instances := m.Instances.With("route", name)
	factory := func(instance string) (endpoint.Endpoint, io.Closer, error) {
		client, closer, err := newClient(instance)
		if err != nil {
			return nil, nil, err
		}
		st := &endpointState{route: name, instance: instance, added: time.Now()}
		st.breaker = newBreaker(name, instance, s.Breaker, m, logger)
		registry.add(st)
		instances.Add(1)
		logger.Info("instance added", "instance", instance)
		removed := closerFunc(func() error {
			logger.Info("instance removed", "instance", instance)
			registry.remove(st)
			instances.Add(-1)
			if closer != nil {
				return closer.Close()
			}
			return nil
		})
		return breaking(st.breaker)(observing(st, m)(client)), removed, nil
	}
	endpointer := sd.NewEndpointer(instancer, factory, hclogkit.Adapt(logger))
	return &Route{
		Name:     name,
		Endpoint: countingFailures(name, m.Failures)(retrying(s.Retry, &roundRobin{endpointer: endpointer}, m.Retries.With("route", name))),
		stop:     endpointer.Close,
	}
}

// countingFailures is the endpoint middleware that counts the route's failed requests by kind.
func countingFailures(route string, failures metrics.Counter) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			response, err := next(ctx, request)
			if kind := FailureKind(err); kind != None {
				failures.With("route", route, "kind", string(kind)).Add(1)
			}
			return response, err
		}
	}
}

// Close stops the route's subscription to the instancer.
func (r *Route) Close() { r.stop() }

// closerFunc is the io.Closer the Endpointer calls when an instance leaves the set.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
