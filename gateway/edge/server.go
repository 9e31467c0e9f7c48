// Package edge is the gateway's HTTP front: a fasthttp server and router whose routes hand the
// request, as an upstream.Request (its body passed through as bytes), to a go-kit endpoint (the
// route's admission → retry → breaker → instance chain of package proxy) and write its answer,
// or the gateway's own error as JSON {"err": "..."}. It plays the part go-kit's
// httptransport.Server plays in stringsvc, on fasthttp: the server reuses its request and
// response buffers and reads each connection in one goroutine (bench/README.md, "Figures behind
// the code", says what that saved).
package edge

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"
)

// Limits bound what one client can hold of the server: a connection, a goroutine and a read
// buffer of MaxHeaderBytes each.
type Limits struct {
	ReadTimeout    time.Duration // the whole request, head and body: a client sending it slowly (slowloris) is cut off
	WriteTimeout   time.Duration // the answer
	IdleTimeout    time.Duration // a keep-alive connection between requests
	MaxHeaderBytes int           // the request head; 431 beyond
	// MaxBodyBytes is the largest body any route accepts (each route has its own limit, at most
	// this). The server reads bodies up to twice as large whole, so that the route answers them
	// 413 on a connection that stays usable; a larger one is refused from its Content-Length
	// and the connection is closed (gently: serve on a linger.OnClose listener, or a client
	// still writing its body may see a reset, not the 413).
	MaxBodyBytes int
}

// DefaultLimits are the gateway's: a request of at most 1 MiB needs far less than 10 s even on a
// slow link, and the answer comes within the retry budget (1 s by default).
func DefaultLimits() Limits {
	return Limits{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10, MaxBodyBytes: 1 << 20}
}

// NewServer returns the fasthttp server for handler with those limits, and the errors of the
// request itself (too large, too slow, malformed) answered as JSON. Serve it on a
// linger.OnClose listener.
func NewServer(handler fasthttp.RequestHandler, logger hclog.Logger, limits Limits) *fasthttp.Server {
	return &fasthttp.Server{
		Handler: handler,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			requestError(ctx, err, int64(limits.MaxBodyBytes))
		},
		MaxRequestBodySize:    2 * limits.MaxBodyBytes,
		ReadBufferSize:        limits.MaxHeaderBytes, // fasthttp reads the whole head into this buffer
		ReadTimeout:           limits.ReadTimeout,
		WriteTimeout:          limits.WriteTimeout,
		IdleTimeout:           limits.IdleTimeout,
		NoDefaultServerHeader: true,
		// Read and write buffers only while a request is read or its answer written, not for the
		// life of a connection: 4,096 connections held 80 MiB of them, mostly waiting in
		// admission (bench/README.md, "Figures behind the code").
		ReduceMemoryUsage: true,
		Logger:            fasthttpLogger{logger},
	}
}

// errMalformedRequest answers a request that is not HTTP/1.x as fasthttp reads it.
var errMalformedRequest = errors.New("malformed HTTP request")

// requestError answers a request the server could not read.
func requestError(ctx *fasthttp.RequestCtx, err error, limit int64) {
	var headTooLarge *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, http.StatusRequestEntityTooLarge, bodyTooLarge(limit))
	case errors.As(err, &headTooLarge):
		writeError(ctx, http.StatusRequestHeaderFieldsTooLarge, errors.New("request head is too large"))
	case errors.As(err, &netErr) && netErr.Timeout():
		writeError(ctx, http.StatusRequestTimeout, errors.New("request not received in time"))
	default:
		// fasthttp's message quotes the request's bytes: never echo them back.
		writeError(ctx, http.StatusBadRequest, errMalformedRequest)
	}
}

// fasthttpLogger sends fasthttp's own messages (rare: connection-level errors) to hclog.
type fasthttpLogger struct{ logger hclog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.logger.Debug(fmt.Sprintf(format, args...))
}
