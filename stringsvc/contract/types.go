package contract

// Paths of the service's HTTP API.
const (
	UppercasePath = "/uppercase"
	CountPath     = "/count"
	HealthPath    = "/health"
	MetricsPath   = "/metrics"
)

// MaxBodyBytes is the largest request body accepted; a larger one is answered 413.
const MaxBodyBytes = 1 << 20

// JSONContentType is the Content-Type of every body.
const JSONContentType = "application/json; charset=utf-8"

// Passthrough is a request or answer body carried as bytes, unchanged. The gateway forwards
// Passthrough values instead of decoding a request and encoding it again (and the same for the
// answer): each request costs one copy of its body there, and the service stays the only place
// that reads the JSON — a malformed request gets the service's own 400, passed through. The
// gateway's server side is package gateway/edge, its client side package gateway/upstream.
type Passthrough struct {
	Body []byte
}

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
