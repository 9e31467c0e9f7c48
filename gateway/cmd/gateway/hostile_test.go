package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/example/gokit-nomad/stringsvc/contract/hostile"
)

// TestHostileRequestsThroughTheGateway sends the shared hostile requests through the gateway to
// an instance: the gateway refuses what it can judge itself (size, media type, method, path) and
// passes the instance's 4xx through for the rest; nothing is a 5xx, nothing stays running.
func TestHostileRequestsThroughTheGateway(t *testing.T) {
	gateway := startGateway(t, []string{strings.TrimPrefix(startInstance(t).URL, "http://")})
	// One good request first, so that the gateway's connection to the instance (kept alive, with
	// its goroutines) exists before hostile.Check counts goroutines.
	resp, err := http.Post(gateway+"/stringsvc/uppercase", "application/json", strings.NewReader(`{"s":"warm"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("warm-up request: %v %v", resp, err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	hostile.Check(t, gateway+"/stringsvc")
}
