//go:build integration

package systemtest

import (
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// The gateway registers itself in Consul, for monitoring only: passing its check, with where its
// metrics are, and no route declared (so no gateway routes to it). On SIGTERM it leaves Consul
// before it exits.
func TestGatewayRegistersItselfForMonitoringAndLeavesOnStop(t *testing.T) {
	s := startSystem(t)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(s.gateway.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []*api.ServiceEntry
	testkit.Eventually(t, 15*time.Second, "the gateway passes its check in consul", func() bool {
		entries, _, err = s.consul.api.Health().Service("gateway", "", true, nil)
		return err == nil && len(entries) == 1
	})
	svc := entries[0].Service
	if svc.Address != host || strconv.Itoa(svc.Port) != port || svc.Meta["metrics_path"] != "/metrics" || len(svc.Tags) != 0 {
		t.Errorf("registered %s:%d meta %v tags %v; want %s:%s, metrics_path /metrics, no tags", svc.Address, svc.Port, svc.Meta, svc.Tags, host, port)
	}
	if status, body := s.gateway.post(t, "/gateway/health", "{}"); status != 404 {
		t.Errorf("POST /gateway/health: %d %s; want 404 (the gateway declares no route)", status, body)
	}

	s.gateway.proc.signal(t, syscall.SIGTERM)
	if code := s.gateway.proc.waitExit(t, 15*time.Second); code != 0 {
		t.Fatalf("gateway exited %d", code)
	}
	if s.gateway.proc.findLogEntry("deregistered from consul", nil) == nil {
		t.Error("the gateway did not log leaving consul")
	}
	if left, _, err := s.consul.api.Health().Service("gateway", "", false, nil); err != nil || len(left) != 0 {
		t.Errorf("after the gateway exited, consul lists %d gateway instances (err %v), want none", len(left), err)
	}
}
