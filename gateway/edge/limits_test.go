package edge

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/stringsvc/contract/hostile"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
)

// Slow and idle clients are cut off after the read and idle timeouts without holding the server
// for anybody else, and an oversized request head gets a JSON 431. The limits are the defaults
// with the timeouts shortened so that the test runs in about a second.
func TestServerLimitsHoldAgainstSlowClientsAndHeadFloods(t *testing.T) {
	limits := DefaultLimits()
	limits.ReadTimeout, limits.IdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	server := NewServer(func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{"v":"FINE"}`) }, hclog.NewNullLogger(), limits)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(linger.OnClose(ln)) }()
	defer func() { _ = server.Shutdown() }()

	hostile.SlowClients(t, ln.Addr().String(), limits.ReadTimeout)
	hostile.HeadFlood(t, "http://"+ln.Addr().String(), limits.MaxHeaderBytes, true)
}
