package main

import (
	"net"
	"testing"
	"time"

	kitlog "github.com/go-kit/log"

	"github.com/example/gokit-nomad/stringsvc/contract/hostile"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// Slow and idle clients are cut off after the read and idle timeouts without holding the server
// for anybody else, and an oversized request head gets a 431 (net/http's own, in plain text).
// The limits are the defaults with the timeouts shortened so that the test runs in about a second.
func TestServerLimitsHoldAgainstSlowClientsAndHeadFloods(t *testing.T) {
	limits := defaultLimits
	limits.readTimeout, limits.idleTimeout = 300*time.Millisecond, 300*time.Millisecond
	server := newHTTPServer(transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger()), limits)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(linger.OnClose(ln)) }()
	defer server.Close()

	hostile.SlowClients(t, ln.Addr().String(), limits.readTimeout)
	hostile.HeadFlood(t, "http://"+ln.Addr().String(), limits.maxHeaderBytes, false)
}
