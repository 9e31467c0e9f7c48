package main

import (
	"net"
	"net/http"
	"time"
)

// newInstanceClient returns the HTTP client the gateway uses towards instances. The default
// client keeps only 2 idle connections per host, so under load nearly every request would open a
// new TCP connection; this one keeps a pool per instance. Timeouts per attempt come from the
// request context; dialing gets its own short bound so a dead host fails fast.
func newInstanceClient(maxIdlePerHost int) *http.Client {
	dialer := &net.Dialer{Timeout: time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        0, // no global cap; the per-host cap below bounds the pool
		MaxIdleConnsPerHost: maxIdlePerHost,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
}
