// Package instrument holds stringsvc's Prometheus metrics, so that every binary serving the
// stringsvc contract — stringsvc itself and graysvc, its degraded stand-in — exposes the same
// series, counted the same way.
package instrument

import (
	"net/http"

	"github.com/go-kit/kit/metrics"
	kitprometheus "github.com/go-kit/kit/metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/example/gokit-nomad/stringsvc/service"
)

// Service is stringsvc's service-level metrics.
type Service struct {
	requests    metrics.Counter
	latency     metrics.Histogram
	countResult metrics.Histogram
}

// NewService registers stringsvc_requests_total, stringsvc_request_duration_seconds and
// stringsvc_count_result in Prometheus's default registry (which also carries the Go runtime and
// process collectors).
func NewService() Service {
	labels := []string{"method", "error"}
	return Service{
		requests: kitprometheus.NewCounterFrom(prometheus.CounterOpts{
			Namespace: "stringsvc", Name: "requests_total", Help: "Requests served, by method and whether they failed.",
		}, labels),
		latency: kitprometheus.NewHistogramFrom(prometheus.HistogramOpts{
			Namespace: "stringsvc", Name: "request_duration_seconds", Help: "Time spent in the service, by method.",
		}, labels),
		countResult: kitprometheus.NewHistogramFrom(prometheus.HistogramOpts{
			Namespace: "stringsvc", Name: "count_result", Help: "Results of count.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}, nil),
	}
}

// Middleware returns the service middleware that feeds the metrics.
func (s Service) Middleware() service.Middleware {
	return service.InstrumentingMiddleware(s.requests, s.latency, s.countResult)
}

// Failed counts a call of method ("uppercase", "count") that failed without reaching the
// service (graysvc's injected failures) in stringsvc_requests_total, as a failed call.
func (s Service) Failed(method string) {
	s.requests.With("method", method, "error", "true").Add(1)
}

// Handler serves the default registry in Prometheus's text format.
func Handler() http.Handler { return promhttp.Handler() }

// Responses registers stringsvc_http_responses_total{code, method} in reg and returns the
// middleware that counts every answer of the HTTP handler by status code and HTTP method
// (promhttp's instrumentation). It sees what the service-level metrics cannot: requests refused
// before they reach the service (400 malformed, 413, 415, 404, 405).
func Responses(reg prometheus.Registerer) func(http.Handler) http.Handler {
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "stringsvc", Name: "http_responses_total", Help: "HTTP answers, by status code and method.",
	}, []string{"code", "method"})
	reg.MustRegister(responses)
	return func(next http.Handler) http.Handler { return promhttp.InstrumentHandlerCounter(responses, next) }
}
