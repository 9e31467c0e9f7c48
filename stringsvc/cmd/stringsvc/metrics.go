package main

import (
	"net/http"

	kitprometheus "github.com/go-kit/kit/metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/example/gokit-nomad/stringsvc/service"
)

// newInstrumenting registers stringsvc's metrics in Prometheus's default registry (which also
// carries the Go runtime and process collectors) and returns the middleware that feeds them.
func newInstrumenting() service.Middleware {
	labels := []string{"method", "error"}
	return service.InstrumentingMiddleware(
		kitprometheus.NewCounterFrom(prometheus.CounterOpts{
			Namespace: "stringsvc", Name: "requests_total", Help: "Requests served, by method and whether they failed.",
		}, labels),
		kitprometheus.NewHistogramFrom(prometheus.HistogramOpts{
			Namespace: "stringsvc", Name: "request_duration_seconds", Help: "Time spent in the service, by method.",
		}, labels),
		kitprometheus.NewHistogramFrom(prometheus.HistogramOpts{
			Namespace: "stringsvc", Name: "count_result", Help: "Results of count.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}, nil),
	)
}

func metricsHandler() http.Handler { return promhttp.Handler() }

// countingResponses registers stringsvc_http_responses_total{code, method} in reg and returns the
// middleware that counts every answer of the HTTP handler by status code and HTTP method
// (promhttp's instrumentation). It sees what the service-level metrics cannot: requests refused
// before they reach the service (400 malformed, 413, 415, 404, 405).
func countingResponses(reg prometheus.Registerer) func(http.Handler) http.Handler {
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "stringsvc", Name: "http_responses_total", Help: "HTTP answers, by status code and method.",
	}, []string{"code", "method"})
	reg.MustRegister(responses)
	return func(next http.Handler) http.Handler { return promhttp.InstrumentHandlerCounter(responses, next) }
}
