package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-kit/kit/sd"
	kitlog "github.com/go-kit/log"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// The benchmarks measure the gateway's request path the way clients use it: HTTP into the
// gateway's handler, out to three real stringsvc HTTP handlers, all on loopback in this process.
// BenchmarkDirect is the same client straight to one instance; the difference between the two is
// what the gateway costs per request (allocs/op and B/op include the in-process instance's and
// the client's share, which BenchmarkDirect shows alone).

const benchBody = `{"s":"hello, gateway"}`

func BenchmarkGateway(b *testing.B) {
	instances := make([]string, 3)
	for i := range instances {
		instances[i] = strings.TrimPrefix(startInstance(b).URL, "http://")
	}
	runClients(b, startGateway(b, instances)+"/stringsvc/uppercase")
}

// startGateway serves the gateway's routes with its default settings over the given instances
// (host:port) and returns its base URL.
func startGateway(tb testing.TB, instances []string) string {
	tb.Helper()
	return startGatewayWith(tb, instances, func(*parts) {})
}

// startGatewayWith is startGateway with the parts changed by change first.
func startGatewayWith(tb testing.TB, instances []string, change func(*parts)) string {
	tb.Helper()
	cfg, err := parseConfig(nil) // the gateway's defaults
	if err != nil {
		tb.Fatal(err)
	}
	// Sorted: sd.FixedInstancer hands its one slice to both routes' Endpointers, which each sort
	// it in place (Consul's Instancer gives each subscriber a copy).
	instances = slices.Sorted(slices.Values(instances))
	p := parts{
		service:   "stringsvc",
		instancer: sd.FixedInstancer(instances),
		settings:  proxy.Settings{Breaker: cfg.breaker, Outliers: cfg.outliers, Retry: cfg.retry, Logger: hclog.NewNullLogger()},
		admission: cfg.admission,
		clients:   cfg.upstream,
		logger:    hclog.NewNullLogger(),
	}
	change(&p)
	handler, closeRoutes := newHandler(p)
	tb.Cleanup(closeRoutes)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	server := edge.NewServer(handler, hclog.NewNullLogger(), edge.DefaultLimits())
	go func() { _ = server.Serve(linger.OnClose(ln)) }()
	tb.Cleanup(func() { _ = server.Shutdown() })
	return "http://" + ln.Addr().String()
}

func BenchmarkDirect(b *testing.B) {
	runClients(b, startInstance(b).URL+"/uppercase")
}

func startInstance(tb testing.TB) *httptest.Server {
	tb.Helper()
	handler := transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger())
	s := httptest.NewServer(handler)
	tb.Cleanup(s.Close)
	return s
}

// runClients posts benchBody to url from parallel clients over keep-alive connections and fails
// on any answer but 200 {"v":"HELLO, GATEWAY"}.
func runClients(b *testing.B, url string) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)
	want := []byte(`{"v":"HELLO, GATEWAY"}`)
	b.ReportAllocs()
	b.SetParallelism(8) // 8 × GOMAXPROCS concurrent clients, like a loaded gateway
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", strings.NewReader(benchBody))
			if err != nil {
				b.Error(err)
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(bytes.TrimSpace(got), want) {
				b.Errorf("got %d %q %v", resp.StatusCode, got, err)
				return
			}
		}
	})
}
