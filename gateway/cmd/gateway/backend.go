package main

import (
	"time"

	"github.com/go-kit/kit/ratelimit"
	"github.com/go-kit/kit/sd"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/routing"
	"github.com/example/gokit-nomad/gateway/upstream"
)

// backend builds what serves each live route (routing.Backend): per service, its discovery and
// admission control, shared by its routes and stopped with the last of them; per route, its
// proxy.Route over the instances that serve it, and the HTTP handler in front. Every instance
// has one connection pool, whatever the number of routes to it (upstream.Pools). The table calls
// it under its lock: it needs none of its own.
type backend struct {
	parts
	tel      telemetry
	board    *proxy.StatusBoard
	failures *edge.FailureLog
	router   *edge.Router
	pools    *upstream.Pools
	services map[string]*serviceParts
}

type serviceParts struct {
	instancer    sd.Instancer
	declarations *discovery.Declarations
	admission    *proxy.Admission // nil: none
	stop         func()
	routes       int
}

// routeParts are what serves one route (routing.Opened).
type routeParts struct {
	b       *backend
	spec    routing.Spec
	route   *proxy.Route
	handler fasthttp.RequestHandler
}

// settleWait bounds the wait for a new route's instances (discovery.View.Settled): the
// instancer hands its state over at once, so only a stuck Endpointer would take it.
const settleWait = time.Second

func (b *backend) Open(spec routing.Spec) routing.Opened {
	svc := b.service(spec.Service)
	var keep func(string) bool // a routes-file route: every instance of the service
	if spec.Declared() {
		// Only the instances that declare the route serve it: during a rolling deploy a new
		// method reaches only the instances that have it.
		key := spec.DeclarationKey()
		keep = func(instance string) bool { return svc.declarations.Declares(instance, key) }
	}
	view := discovery.Filter(svc.instancer, keep)
	settings := b.settings
	settings.Retry.Idempotent = spec.Policy.Idempotent
	settings.Retry.Attempts = spec.Policy.Attempts
	settings.Retry.TryTimeout = spec.Policy.TryTimeout
	settings.Retry.Budget = spec.Policy.Budget
	settings.Retry.Hedge = spec.Policy.Hedge
	settings.Admission = svc.admission
	target := upstream.Target{Method: spec.Method, Path: spec.Upstream, Idempotent: spec.Policy.Idempotent}
	route := proxy.NewRoute(spec.Service, spec.Key(), view, b.pools.Factory(target), settings)
	select {
	case <-view.Settled():
	case <-time.After(settleWait):
		b.logger.Warn("route published before its instances were known", "route", spec.Key())
	}
	ep := route.Endpoint
	if b.limiter != nil {
		ep = ratelimit.NewErroringLimiter(b.limiter)(ep)
	}
	handler := edge.Instrumented(spec.Key(), b.tel.requests.With("service", spec.Service), b.tel.duration.With("service", spec.Service),
		edge.EndpointHandler(spec.Key(), spec.Policy.BodyLimit, ep, b.failures))
	return &routeParts{b: b, spec: spec, route: route, handler: handler}
}

// Close closes the route, and its service's parts with its last route.
func (r *routeParts) Close() {
	r.route.Close()
	b, name := r.b, r.spec.Service
	svc := b.services[name]
	if svc.routes--; svc.routes == 0 {
		delete(b.services, name)
		svc.stop()
		if svc.admission != nil {
			b.board.RemoveAdmission(svc.admission)
		}
	}
}

func (b *backend) Publish(live []routing.Live) {
	bindings := make([]edge.Binding, 0, len(live))
	for _, l := range live {
		bindings = append(bindings, edge.Binding{Method: l.Spec.Method, Path: l.Spec.Path, Handler: l.Opened.(*routeParts).handler})
	}
	b.router.Publish(bindings)
}

// service returns the parts of a service, started with its first route.
func (b *backend) service(name string) *serviceParts {
	svc := b.services[name]
	if svc == nil {
		svc = &serviceParts{}
		svc.instancer, svc.declarations, svc.stop = b.watch(name)
		if b.admission.MaxInFlight > 0 {
			svc.admission = proxy.NewAdmission(name, b.admission, b.tel.proxy.Shed, b.tel.proxy.AdmissionWait)
			b.board.AddAdmission(svc.admission)
		}
		b.services[name] = svc
	}
	svc.routes++
	return svc
}
