// Package proxy is the gateway's request path. For each route, and for each instance of the
// service, the instance's client endpoint is wrapped in its own circuit breaker; a request is
// admitted under the service's adaptive concurrency limit (or shed), then sent round-robin with
// retries and hedges (both capped by a retry budget), each attempt with its own timeout, inside
// a total budget. Instances are ejected (their breaker opened) only when they fail or slow down
// against their peers, never more than a capped share of them at once.
//
//	HTTP front (package edge) → counting failures, budget (route.go) → admission (admission.go)
//	  → retrier (retry.go: round-robin, retries, hedges; retrybudget.go, latency.go)
//	  → member (member.go: breaker, attempt, its records) → instance client endpoint (package upstream)
//	group.go, outliers.go: each route's instances judged together (outliers, cap, panic)
package proxy

import (
	"context"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/hclogkit"
)

// BreakerSettings configures each instance's circuit breaker.
type BreakerSettings struct {
	// Failures is how many consecutive failures open the breaker (while the peers do well).
	Failures uint32
	// Open is how long the breaker stays open before it lets one probe request through; a
	// repeated ejection lasts a multiple of it (OutlierSettings.MaxEjection).
	Open time.Duration
}

// Settings are shared by every route of the gateway.
type Settings struct {
	Breaker   BreakerSettings
	Outliers  OutlierSettings
	Retry     RetryPolicy
	Admission *Admission // the service's admission control, shared by its routes; nil: none
	Logger    hclog.Logger
	Metrics   Metrics      // nil fields record nothing
	Status    *StatusBoard // where the route and its instance endpoints are listed; nil: nowhere
	Now       func() time.Time
}

// Route is one route of a service, backed by every instance the instancer reports: its
// endpoint is the whole request path below the HTTP front.
type Route struct {
	Service  string
	Name     string // "<METHOD> <public path>": the route label of the metrics
	Endpoint endpoint.Endpoint
	retrier  *retrier
	board    *StatusBoard
	stop     func()
	open     *openEndpoints
}

// NewRoute subscribes to instancer through a go-kit Endpointer whose factory makes each
// instance's client endpoint (from newClient) a member of the route's group, with its own
// breaker. The Endpointer keeps the member, and so its breaker, of every instance that stays in
// the set across updates, and keeps the last known set while discovery reports errors.
func NewRoute(service, name string, instancer sd.Instancer, newClient sd.Factory, s Settings) *Route {
	s = s.withDefaults()
	logger := s.Logger.With("service", service, "route", name)
	m := s.Metrics.orDiscard().with("service", service)
	registry := s.Status
	if registry == nil {
		registry = NewStatusBoard()
	}
	group := newGroup(service, name, s.Outliers, s.Breaker, m, logger)
	open := &openEndpoints{closers: map[*member]io.Closer{}}
	factory := func(instance string) (endpoint.Endpoint, io.Closer, error) {
		client, closer, err := newClient(instance)
		if err != nil {
			return nil, nil, err
		}
		member := group.newMember(instance, client)
		group.add(member)
		registry.add(member)
		logger.Info("instance added", "instance", instance)
		// release takes the endpoint off the board and gives its client back, once: when the
		// instance leaves, or when the route closes.
		var once sync.Once
		release := closerFunc(func() (err error) {
			once.Do(func() {
				registry.remove(member)
				open.drop(member)
				if closer != nil {
					err = closer.Close()
				}
			})
			return err
		})
		open.add(member, release)
		removed := closerFunc(func() error {
			logger.Info("instance removed", "instance", instance)
			group.remove(member)
			return release.Close()
		})
		return member.endpoint, removed, nil
	}
	endpointer := sd.NewEndpointer(instancer, factory, hclogkit.Adapt(logger))
	r := &retrier{
		policy:       s.Retry,
		group:        group,
		admission:    s.Admission,
		budget:       newRetryBudget(s.Retry.RetryBudget, s.Now),
		latency:      newLatencyTracker(s.Retry.HedgeQuantile, time.Second),
		retries:      m.Retries.With("route", name),
		hedges:       m.Hedges.With("route", name, "result", "sent"),
		hedgesWon:    m.Hedges.With("route", name, "result", "won"),
		budgetDenied: m.RetryBudgetExhausted.With("route", name),
	}
	// Series that alerts read exist from the start, at zero, not from the first event.
	for _, c := range []metrics.Counter{r.retries, r.hedges, r.hedgesWon, r.budgetDenied} {
		c.Add(0)
	}
	ep := r.serve
	if s.Admission != nil {
		ep = s.Admission.Middleware()(ep)
	}
	route := &Route{
		Service:  service,
		Name:     name,
		Endpoint: countingFailures(name, m.Failures)(budgeting(s.Retry.Budget)(ep)),
		retrier:  r,
		board:    registry,
		stop:     endpointer.Close,
		open:     open,
	}
	registry.addRoute(route)
	return route
}

// budgeting is the endpoint middleware that gives each request its total time budget, from
// before admission to the last attempt. A request whose context nothing can cancel (the edge's)
// gets a deadlineContext, which starts a timer only for a request that waits for admission.
func budgeting(budget time.Duration) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			if ctx.Done() == nil {
				return next(&deadlineContext{values: ctx, deadline: time.Now().Add(budget), cause: ErrBudgetExhausted}, request)
			}
			ctx, cancel := context.WithTimeoutCause(ctx, budget, ErrBudgetExhausted)
			defer cancel()
			return next(ctx, request)
		}
	}
}

// countingFailures is the endpoint middleware that counts the route's failed requests by kind.
func countingFailures(route string, failures metrics.Counter) endpoint.Middleware {
	for _, kind := range failureKinds { // each kind's series exists from the start, at zero
		failures.With("route", route, "kind", string(kind)).Add(0)
	}
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

// Close stops the route's subscription to the instancer (its instance endpoints are closed)
// and takes it off the status board.
func (r *Route) Close() {
	r.stop()
	r.open.closeAll()
	r.board.removeRoute(r)
}

// openEndpoints release a route's open instance endpoints. A closed go-kit Endpointer closes
// none of them: the route does, so that its instances leave the status board (and the metrics read
// from it) and give their connection pools back. They stay in the route's group: a request that
// reached the route before it was replaced still has its instances (a released client finishes
// what is in flight).
type openEndpoints struct {
	mu      sync.Mutex
	closers map[*member]io.Closer
}

func (o *openEndpoints) add(m *member, c io.Closer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closers[m] = c
}

func (o *openEndpoints) drop(m *member) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.closers, m)
}

// closeAll releases every endpoint still open (each once, even if the Endpointer's last update
// removes it too).
func (o *openEndpoints) closeAll() {
	o.mu.Lock()
	closers := slices.Collect(maps.Values(o.closers))
	o.mu.Unlock()
	for _, c := range closers {
		_ = c.Close()
	}
}

// closerFunc is the io.Closer the Endpointer calls when an instance leaves the set.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// withDefaults fills the zero fields of s's policies with the gateway's defaults: a zero
// OutlierSettings, RetryBudgetSettings or HedgeQuantile means "the default", not "none".
func (s Settings) withDefaults() Settings {
	if s.Outliers == (OutlierSettings{}) {
		s.Outliers = DefaultOutlierSettings()
	}
	if s.Retry.RetryBudget == (RetryBudgetSettings{}) {
		s.Retry.RetryBudget = DefaultRetryBudget()
	}
	if s.Retry.HedgeQuantile == 0 {
		s.Retry.HedgeQuantile = DefaultHedgeQuantile
	}
	if s.Retry.HedgeMinDelay == 0 {
		s.Retry.HedgeMinDelay = DefaultHedgeMinDelay
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}
