package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
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

func BenchmarkDirect(b *testing.B) {
	runClients(b, startInstance(b).URL+"/uppercase")
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
