package main

import (
	"net/http"

	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/upstream"
	"github.com/example/gokit-nomad/stringsvc/contract"
)

// newHandler serves the service's routes under /<service>/ from the instances instancer reports,
// plus the gateway's own GET /health. close stops the routes' subscriptions.
func newHandler(service string, instancer sd.Instancer, settings proxy.Settings, clients upstream.Settings, logger hclog.Logger) (handler fasthttp.RequestHandler, close func()) {
	uppercase := proxy.NewRoute("uppercase", instancer, upstream.Factory(contract.UppercasePath, clients), settings)
	count := proxy.NewRoute("count", instancer, upstream.Factory(contract.CountPath, clients), settings)
	prefix := "/" + service
	handler = edge.NewRouter(
		edge.Route{Method: http.MethodPost, Path: prefix + contract.UppercasePath,
			Handler: edge.EndpointHandler(uppercase.Endpoint, logger.Named(uppercase.Name))},
		edge.Route{Method: http.MethodPost, Path: prefix + contract.CountPath,
			Handler: edge.EndpointHandler(count.Endpoint, logger.Named(count.Name))},
		edge.Route{Method: http.MethodGet, Path: contract.HealthPath, Handler: health},
	)
	return handler, func() { uppercase.Close(); count.Close() }
}

// health answers the gateway's own liveness check.
func health(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(contract.JSONContentType)
	ctx.SetBodyString(`{"status":"ok"}`)
}
