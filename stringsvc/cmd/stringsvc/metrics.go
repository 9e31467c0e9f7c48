package main

import (
	"net/http"

	kitprometheus "github.com/go-kit/kit/metrics/prometheus"
	stdprometheus "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/example/gokit-nomad/stringsvc/service"
)

// newInstrumenting registers stringsvc's metrics in Prometheus's default registry (which also
// carries the Go runtime and process collectors) and returns the middleware that feeds them.
func newInstrumenting() service.Middleware {
	labels := []string{"method", "error"}
	return service.InstrumentingMiddleware(
		kitprometheus.NewCounterFrom(stdprometheus.CounterOpts{
			Namespace: "stringsvc", Name: "requests_total", Help: "Requests served, by method and whether they failed.",
		}, labels),
		kitprometheus.NewHistogramFrom(stdprometheus.HistogramOpts{
			Namespace: "stringsvc", Name: "request_duration_seconds", Help: "Time spent in the service, by method.",
		}, labels),
		kitprometheus.NewHistogramFrom(stdprometheus.HistogramOpts{
			Namespace: "stringsvc", Name: "count_result", Help: "Results of count.",
			Buckets: stdprometheus.ExponentialBuckets(1, 4, 8),
		}, nil),
	)
}

func metricsHandler() http.Handler { return promhttp.Handler() }
