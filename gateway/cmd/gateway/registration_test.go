package main

import (
	"net"
	"os"
	"testing"

	"github.com/example/gokit-nomad/stringsvc/registry"
)

func TestRegistrationAddress(t *testing.T) {
	hostname, _ := os.Hostname()
	for _, tc := range []struct {
		name, listen, allocID string
		env                   map[string]string
		args                  []string
		wantHost, wantID      string
	}{
		{name: "the listen host", listen: "127.0.0.2:8080", wantHost: "127.0.0.2", wantID: "gateway-127.0.0.2-8080"},
		{name: "all interfaces: the node's address", listen: "0.0.0.0:8080", wantHost: "", wantID: "gateway-" + hostname + "-8080"},
		{name: "under Nomad: NOMAD_IP_http and the allocation", listen: "0.0.0.0:8080",
			env:      map[string]string{"NOMAD_IP_http": "10.0.0.7", "NOMAD_ALLOC_ID": "a1b2"},
			wantHost: "10.0.0.7", wantID: "gateway-a1b2"},
		{name: "-advertise wins", listen: "127.0.0.2:8080", env: map[string]string{"NOMAD_IP_http": "10.0.0.7"},
			args: []string{"-advertise", "gw.example.com", "-service-name", "edge"}, wantHost: "gw.example.com", wantID: "edge-gw.example.com-8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := parseConfig(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			bound, err := net.ResolveTCPAddr("tcp", tc.listen)
			if err != nil {
				t.Fatal(err)
			}
			in := c.registration(bound)
			if in.Host != tc.wantHost || in.ID != tc.wantID || in.Port != 8080 {
				t.Errorf("host %q, ID %q, port %d; want %q, %q, 8080", in.Host, in.ID, in.Port, tc.wantHost, tc.wantID)
			}
			if in.Meta[registry.MetricsPathMeta] != metricsPath || in.HealthPath != healthPath || len(in.Tags) != 0 {
				t.Errorf("meta %v, health %q, tags %v; want metrics_path %s, %s, no tags (no routes)", in.Meta, in.HealthPath, in.Tags, metricsPath, healthPath)
			}
		})
	}
}

func TestRegisterIsOnByDefaultAndNeedsAName(t *testing.T) {
	if c, err := parseConfig(nil); err != nil || !c.register || c.serviceName != "gateway" {
		t.Fatalf("register %v as %q, err %v; want on, as gateway", c.register, c.serviceName, err)
	}
	if _, err := parseConfig([]string{"-service-name", ""}); err == nil {
		t.Fatal("an empty -service-name was accepted")
	}
}

func TestRegisterCanBeTurnedOff(t *testing.T) {
	t.Setenv("GATEWAY_REGISTER", "false")
	if c, err := parseConfig([]string{"-service-name", ""}); err != nil || c.register {
		t.Fatalf("register %v, err %v; want off, and then no name needed", c.register, err)
	}
}
