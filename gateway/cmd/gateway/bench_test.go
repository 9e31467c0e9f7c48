package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// The benchmarks measure the gateway's request path the way clients use it: HTTP into the
// gateway's server, out over loopback to three instances, all in this process.
//
// BenchmarkGateway is the gateway alone: its client and its instances (fixedInstance) are
// fasthttp code that allocates nothing per request once warm, so allocs/op and B/op are the
// gateway's own. BenchmarkEndToEnd puts real stringsvc handlers behind it and net/http clients
// in front, and BenchmarkDirect is that client straight to one stringsvc: the two show what a
// request costs with everything a real one passes through.

const (
	benchBody   = `{"s":"hello, gateway"}`
	benchAnswer = `{"v":"HELLO, GATEWAY"}`
)

func BenchmarkGateway(b *testing.B) {
	instances := make([]string, 3)
	for i := range instances {
		instances[i] = fixedInstance(b, benchAnswer)
	}
	runFastClients(b, startGateway(b, instances), "/stringsvc/uppercase")
}

func BenchmarkEndToEnd(b *testing.B) {
	instances := make([]string, 3)
	for i := range instances {
		instances[i] = strings.TrimPrefix(startInstance(b).URL, "http://")
	}
	runClients(b, startGateway(b, instances)+"/stringsvc/uppercase")
}

func BenchmarkDirect(b *testing.B) {
	runClients(b, startInstance(b).URL+"/uppercase")
}

// fixedInstance serves answer as JSON to every request, on loopback, without allocating: it
// stands for stringsvc where only the gateway's cost is measured. It returns host:port.
func fixedInstance(tb testing.TB, answer string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	body := []byte(answer)
	server := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}}
	go func() { _ = server.Serve(ln) }()
	tb.Cleanup(func() { _ = server.Shutdown() })
	return ln.Addr().String()
}

// runFastClients posts benchBody to path at base ("http://host:port") from parallel fasthttp
// clients, each reusing its request and response, and fails on any answer but 200 benchAnswer.
func runFastClients(b *testing.B, base, path string) {
	b.Helper()
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(base, "http://"), MaxConns: 256}
	b.Cleanup(client.CloseIdleConnections)
	want := []byte(benchAnswer)
	runParallel(b, func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.Header.SetMethod(http.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetRequestURI(base + path)
		req.SetBodyString(benchBody)
		for pb.Next() {
			if err := client.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != http.StatusOK || !bytes.Equal(bytes.TrimSpace(resp.Body()), want) {
				b.Errorf("got %d %q", resp.StatusCode(), resp.Body())
				return
			}
		}
	})
}

// runClients posts benchBody to url from parallel net/http clients over keep-alive connections
// and fails on any answer but 200 benchAnswer.
func runClients(b *testing.B, url string) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)
	want := []byte(benchAnswer)
	runParallel(b, func(pb *testing.PB) {
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

// runParallel times client in 8 × GOMAXPROCS goroutines, like a loaded gateway's clients,
// reporting allocations.
func runParallel(b *testing.B, client func(*testing.PB)) {
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(client)
}
