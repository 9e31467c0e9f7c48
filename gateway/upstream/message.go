package upstream

import (
	"fmt"
	"net/http"
)

// Request is one client request as a route forwards it: its body passed through as bytes (the
// instances validate it), its Content-Type and its query string. The route's method and upstream
// path come with the endpoint (Target).
type Request struct {
	Body        []byte
	ContentType string
	Query       string // without the "?"
}

// Response is an instance's 2xx answer, passed back as bytes.
type Response struct {
	Status      int
	Body        []byte
	ContentType string
}

// StatusError is an instance's answer with a status outside 2xx. Its body is kept: a 4xx is the
// request's answer and goes back to the client unchanged.
type StatusError struct {
	Status      int
	Body        []byte
	ContentType string
}

func (e *StatusError) Error() string {
	const most = 200
	body := e.Body
	if len(body) > most {
		body = body[:most]
	}
	return fmt.Sprintf("instance answered %d %s: %q", e.Status, http.StatusText(e.Status), body)
}

// StatusCode implements go-kit's httptransport.StatusCoder; package proxy classifies an
// attempt by it.
func (e *StatusError) StatusCode() int { return e.Status }

// Target is what a route's endpoints send to every instance: a method and an upstream path.
type Target struct {
	Method string
	Path   string
	// Idempotent: a request that found a kept-alive connection closed by the instance is sent
	// once more on a fresh one. Not for the others: the instance may have read it.
	Idempotent bool
}

// dialError: no connection to the instance could be made (refused, unreachable, timed out).
// It counts against the instance, but the request never reached it (proxy.NotDelivered: proxy
// retries it even on a route that is not idempotent).
type dialError struct{ error }

func (dialError) NotDelivered() bool { return true }

func (e dialError) Unwrap() error { return e.error }

// poolFull is the error of a request that found every connection of the instance's pool busy
// for MaxConnWait: it never left the gateway, so it says nothing about the instance
// (proxy.NotSent), and it cannot have reached it (proxy.NotDelivered).
type poolFull struct{ error }

func (poolFull) NotSent() bool { return true }

func (poolFull) NotDelivered() bool { return true }

func (e poolFull) Unwrap() error { return e.error }

// ContentTypeOf returns b, the value of a Content-Type header, as a string: a common one as a
// constant, without allocating, any other as a copy. (A request's Content-Type and its answer's
// were two of the request path's few allocations.)
func ContentTypeOf(b []byte) string {
	switch string(b) { // a switch on string(b) compares bytes: no allocation
	case "":
		return ""
	case "application/json":
		return "application/json"
	case "application/json; charset=utf-8":
		return "application/json; charset=utf-8"
	case "text/plain; charset=utf-8":
		return "text/plain; charset=utf-8"
	}
	return string(b)
}
