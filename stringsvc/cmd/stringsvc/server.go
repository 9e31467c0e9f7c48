package main

import (
	"net/http"
	"time"
)

// serverLimits bound what one client can hold of the server: a connection and a goroutine each.
type serverLimits struct {
	readTimeout    time.Duration // the request head (ReadHeaderTimeout) and the whole request: slowloris clients are cut off
	writeTimeout   time.Duration // from the end of the head to the end of the answer
	idleTimeout    time.Duration // a keep-alive connection between requests
	maxHeaderBytes int           // the request head (net/http allows 4 KiB more); 431 beyond
}

// defaultLimits are the gateway's (edge.DefaultLimits): a request of at most 1 MiB needs far less
// than 10 s even on a slow link, and the service answers in microseconds.
var defaultLimits = serverLimits{readTimeout: 10 * time.Second, writeTimeout: 10 * time.Second, idleTimeout: time.Minute, maxHeaderBytes: 16 << 10}

// newHTTPServer returns the HTTP server of handler with those limits. Serve it on a
// linger.OnClose listener, so that a refused large body ends in a FIN, not a reset.
func newHTTPServer(handler http.Handler, l serverLimits) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: l.readTimeout,
		ReadTimeout:       l.readTimeout,
		WriteTimeout:      l.writeTimeout,
		IdleTimeout:       l.idleTimeout,
		MaxHeaderBytes:    l.maxHeaderBytes,
	}
}
