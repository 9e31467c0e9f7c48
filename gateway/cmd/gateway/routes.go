package main

import (
	"net/http"
	"time"

	"github.com/go-kit/kit/ratelimit"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"golang.org/x/time/rate"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/status"
	"github.com/example/gokit-nomad/gateway/upstream"
	"github.com/example/gokit-nomad/stringsvc/contract"
)

// parts are what the gateway's handler is built from.
type parts struct {
	service   string // served under /<service>/
	instancer sd.Instancer
	sightings *discovery.Sightings // when Consul last listed each instance; nil: unknown
	settings  proxy.Settings       // its Metrics, Status and Admission are set by newHandler
	admission proxy.AdmissionSettings
	clients   upstream.Settings
	limiter   *rate.Limiter // shared by every route; nil: no limit
	logger    hclog.Logger
}

// newHandler serves the service's routes under /<service>/ from the instances the instancer
// reports, plus the gateway's own GET /health, GET /metrics (Prometheus) and GET /status (JSON or
// HTML: package status). A limiter is go-kit's erroring rate limiter: a request over the limit is
// answered 429 at once, never queued. Both routes share the service's admission control. close
// stops the routes' subscriptions and flushes the failure log.
func newHandler(p parts) (handler fasthttp.RequestHandler, close func()) {
	statuses := proxy.NewStatusBoard()
	tel := newTelemetry(statuses)
	p.settings.Metrics, p.settings.Status = tel.proxy, statuses
	if p.admission.MaxInFlight > 0 {
		p.settings.Admission = proxy.NewAdmission(p.service, p.admission, tel.proxy.Shed, tel.proxy.AdmissionWait)
		statuses.AddAdmission(p.settings.Admission)
	}
	failures := edge.NewFailureLog(p.logger.Named("requests"), time.Second)
	pools := upstream.NewPools(p.clients) // one per instance, shared by both routes
	uppercase := proxy.NewRoute("uppercase", p.instancer, pools.Factory(contract.UppercasePath), p.settings)
	count := proxy.NewRoute("count", p.instancer, pools.Factory(contract.CountPath), p.settings)
	serve := func(route *proxy.Route) fasthttp.RequestHandler {
		ep := route.Endpoint
		if p.limiter != nil {
			ep = ratelimit.NewErroringLimiter(p.limiter)(ep)
		}
		return edge.Instrumented(route.Name, tel.requests, tel.duration, edge.EndpointHandler(route.Name, ep, failures))
	}
	prefix := "/" + p.service
	handler = edge.NewRouter(
		edge.Route{Method: http.MethodPost, Path: prefix + contract.UppercasePath, Handler: serve(uppercase)},
		edge.Route{Method: http.MethodPost, Path: prefix + contract.CountPath, Handler: serve(count)},
		edge.Route{Method: http.MethodGet, Path: contract.HealthPath, Handler: health},
		edge.Route{Method: http.MethodGet, Path: contract.MetricsPath,
			Handler: fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(tel.registry, promhttp.HandlerOpts{}))},
		edge.Route{Method: http.MethodGet, Path: statusPath, Handler: status.Handler(p.service, statuses, p.sightings)},
	)
	return handler, func() { uppercase.Close(); count.Close(); failures.Close() }
}

// statusPath is the gateway's status page.
const statusPath = "/status"

// health answers the gateway's own liveness check.
func health(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(contract.JSONContentType)
	ctx.SetBodyString(`{"status":"ok"}`)
}
