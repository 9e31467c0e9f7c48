package main

import (
	"net/http"
	"time"

	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"golang.org/x/time/rate"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/routing"
	"github.com/example/gokit-nomad/gateway/status"
	"github.com/example/gokit-nomad/gateway/upstream"
)

// parts are what the gateway is built from.
type parts struct {
	// watch starts following the passing instances of a service, what each declares, and
	// returns how to stop (package discovery over Consul; a fixed set in tests).
	watch     func(service string) (instancer sd.Instancer, declarations *discovery.Declarations, stop func())
	sightings *discovery.Sightings // when Consul last listed each instance; nil: unknown
	consul    *discovery.Health    // Consul's health as discovery sees it; nil: no Consul
	settings  proxy.Settings       // Retry holds the defaults; each route's policy overrides them
	admission proxy.AdmissionSettings
	clients   upstream.Settings
	defaults  routing.Defaults
	limiter   *rate.Limiter // shared by every route; nil: no limit
	logger    hclog.Logger
}

// gateway is the assembled request path: the route table decides which routes are live, the
// backend builds each, the router serves them beside the gateway's own pages.
type gateway struct {
	table  *routing.Table
	router *edge.Router
	close  func()
}

// newGateway serves the routes of its table (empty until the catalog or the routes file fills
// it), plus the gateway's own GET /health, GET /metrics (Prometheus) and GET /status (JSON or
// HTML: package status). A limiter is go-kit's erroring rate limiter: a request over the limit is
// answered 429 at once, never queued. close closes every route and flushes the failure log.
func newGateway(p parts) *gateway {
	board := proxy.NewStatusBoard()
	tel := newTelemetry(board, p.consul)
	p.settings.Metrics, p.settings.Status = tel.proxy, board
	failures := edge.NewFailureLog(p.logger.Named("requests"), time.Second)
	g := &gateway{}
	b := &backend{parts: p, tel: tel, board: board, failures: failures,
		pools: upstream.NewPools(p.clients), services: map[string]*serviceParts{}}
	g.table = routing.NewTable(b, p.defaults, p.logger.Named("routes"))
	g.router = edge.NewRouter(
		edge.Binding{Method: http.MethodGet, Path: healthPath, Handler: health},
		edge.Binding{Method: http.MethodGet, Path: metricsPath,
			Handler: fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(tel.registry, promhttp.HandlerOpts{}))},
		edge.Binding{Method: http.MethodGet, Path: statusPath, Handler: status.Handler(g.table, board, p.sightings)},
	)
	b.router = g.router // the table publishes through it from its first change on
	g.close = func() { g.table.Close(); failures.Close() }
	return g
}

// The gateway's own pages. A route of a service is served at /<service>/..., so that only a
// service named "health", "metrics" or "status" could shadow one (the gateway's page wins).
const (
	healthPath  = "/health"
	metricsPath = "/metrics"
	statusPath  = "/status"
)

// health answers the gateway's own liveness check.
func health(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(edge.JSONContentType)
	ctx.SetBodyString(`{"status":"ok"}`)
}
