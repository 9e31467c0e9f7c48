package main

import (
	"net/http"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/ratelimit"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"

	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/upstream"
	"github.com/example/gokit-nomad/stringsvc/contract"
)

// newHandler serves the service's routes under /<service>/ from the instances instancer reports,
// plus the gateway's own GET /health. A non-nil limiter is shared by all routes (go-kit's
// erroring rate limiter: a request over the limit is answered 429 at once, never queued). close
// stops the routes' subscriptions.
func newHandler(service string, instancer sd.Instancer, settings proxy.Settings, clients upstream.Settings, limiter *rate.Limiter, logger hclog.Logger) (handler fasthttp.RequestHandler, close func()) {
	uppercase := proxy.NewRoute("uppercase", instancer, upstream.Factory(contract.UppercasePath, clients), settings)
	count := proxy.NewRoute("count", instancer, upstream.Factory(contract.CountPath, clients), settings)
	limited := func(ep endpoint.Endpoint) endpoint.Endpoint {
		if limiter == nil {
			return ep
		}
		return ratelimit.NewErroringLimiter(limiter)(ep)
	}
	prefix := "/" + service
	handler = edge.NewRouter(
		edge.Route{Method: http.MethodPost, Path: prefix + contract.UppercasePath,
			Handler: edge.EndpointHandler(limited(uppercase.Endpoint), logger.Named(uppercase.Name))},
		edge.Route{Method: http.MethodPost, Path: prefix + contract.CountPath,
			Handler: edge.EndpointHandler(limited(count.Endpoint), logger.Named(count.Name))},
		edge.Route{Method: http.MethodGet, Path: contract.HealthPath, Handler: health},
	)
	return handler, func() { uppercase.Close(); count.Close() }
}

// health answers the gateway's own liveness check.
func health(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(contract.JSONContentType)
	ctx.SetBodyString(`{"status":"ok"}`)
}
