package contract

import (
	"net/http"

	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// Paths of the service's HTTP API.
const (
	UppercasePath = "/uppercase"
	CountPath     = "/count"
	HealthPath    = "/health"
	MetricsPath   = "/metrics"
)

// Operation is one method of the service's public API: what its HTTP transport serves and what
// its Consul registration declares to the gateway (Declarations).
type Operation struct {
	Name   string // the endpoint's name, e.g. "uppercase"
	Method string
	Path   string
	// Idempotent: processing a request twice does no harm, so the gateway may retry it after
	// it reached an instance, and hedge it.
	Idempotent bool
}

// Operations is the API's one route table. Adding a method to the service means a line here
// (and its endpoint, decoder and handler): the gateway learns it from the registration.
var Operations = []Operation{
	{Name: "uppercase", Method: http.MethodPost, Path: UppercasePath, Idempotent: true},
	{Name: "count", Method: http.MethodPost, Path: CountPath, Idempotent: true},
}

// Declarations are the Operations as the route tags of the service's Consul registration.
func Declarations() []string {
	tags := make([]string, 0, len(Operations))
	for _, op := range Operations {
		idempotent := op.Idempotent
		tags = append(tags, routetag.Declaration{Method: op.Method, Path: op.Path, Idempotent: &idempotent}.Tag())
	}
	return tags
}

// MaxBodyBytes is the largest request body accepted; a larger one is answered 413.
const MaxBodyBytes = 1 << 20

// JSONContentType is the Content-Type of every body.
const JSONContentType = "application/json; charset=utf-8"

// UppercaseRequest is the body of a POST to UppercasePath.
type UppercaseRequest struct {
	S string `json:"s"`
}

// UppercaseResponse is the body of a successful answer from UppercasePath. Err carries a
// domain error from the service to the server's error encoder; it is never on the wire.
type UppercaseResponse struct {
	V   string `json:"v"`
	Err error  `json:"-"`
}

// Failed implements go-kit's endpoint.Failer.
func (r UppercaseResponse) Failed() error { return r.Err }

// CountRequest is the body of a POST to CountPath.
type CountRequest struct {
	S string `json:"s"`
}

// CountResponse is the body of a successful answer from CountPath.
type CountResponse struct {
	V   int   `json:"v"`
	Err error `json:"-"`
}

// Failed implements go-kit's endpoint.Failer.
func (r CountResponse) Failed() error { return r.Err }

// ErrorBody is the body of every error answer.
type ErrorBody struct {
	Err string `json:"err"`
}
