// Package edge is the gateway's HTTP front: a fasthttp server whose routes hand the request body,
// as a contract.Passthrough, to a go-kit endpoint (the route's retry → balancer → breaker →
// instance chain of package proxy) and write its answer, or its error in the contract's JSON
// shape. It plays the part go-kit's httptransport.Server plays in stringsvc, on fasthttp: the
// server reuses its request and response buffers and reads each connection in one goroutine, which
// cut the gateway's CPU per request by about a quarter against net/http under the same load
// (README, "Benchmarks").
package edge

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// readLimit is the largest body the server reads. Bodies between contract.MaxBodyBytes and this
// are read whole and refused by EndpointHandler with a 413 on a connection that stays usable;
// a larger one is refused from its Content-Length and the connection is closed (gently: serve on
// a linger.OnClose listener, or a client still writing its body may see a reset, not the 413).
const readLimit = 2 * contract.MaxBodyBytes

// NewServer returns the fasthttp server for handler with the gateway's limits: bodies up to
// readLimit, bounded read, write and idle times, and errors of the request itself (too large,
// malformed) answered in the contract's JSON shape. Serve it on a linger.OnClose listener.
func NewServer(handler fasthttp.RequestHandler, logger hclog.Logger) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               handler,
		ErrorHandler:          requestError,
		MaxRequestBodySize:    readLimit,
		ReadBufferSize:        16 << 10, // the largest request head accepted (431 beyond)
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		NoDefaultServerHeader: true,
		Logger:                fasthttpLogger{logger},
	}
}

var errBodyTooLarge = fmt.Errorf("request body is larger than %d bytes", contract.MaxBodyBytes)

// requestError answers a request the server could not read.
func requestError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeError(ctx, http.StatusRequestEntityTooLarge, errBodyTooLarge)
		return
	}
	writeError(ctx, http.StatusBadRequest, fmt.Errorf("malformed request: %w", err))
}

// fasthttpLogger sends fasthttp's own messages (rare: connection-level errors) to hclog.
type fasthttpLogger struct{ logger hclog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.logger.Debug(fmt.Sprintf(format, args...))
}
