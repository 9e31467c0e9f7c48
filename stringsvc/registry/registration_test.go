package registry

import (
	"testing"
	"time"
)

func TestInstanceID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, service, allocID, host string
		port                         int
		want                         string
	}{
		{name: "nomad alloc", service: "stringsvc", allocID: "3f2a9c1e-0000-4bd1-8f7e-aa0b1c2d3e4f", host: "10.0.0.5", port: 8080,
			want: "stringsvc-3f2a9c1e-0000-4bd1-8f7e-aa0b1c2d3e4f"},
		{name: "no alloc", service: "stringsvc", host: "10.0.0.5", port: 8080, want: "stringsvc-10.0.0.5-8080"},
		{name: "no alloc other port", service: "stringsvc", host: "10.0.0.5", port: 8081, want: "stringsvc-10.0.0.5-8081"},
		{name: "no alloc hostname", service: "svc", host: "localhost", port: 1, want: "svc-localhost-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := InstanceID(tt.service, tt.allocID, tt.host, tt.port); got != tt.want {
				t.Errorf("InstanceID(%q, %q, %q, %d) = %q, want %q", tt.service, tt.allocID, tt.host, tt.port, got, tt.want)
			}
		})
	}
}

func TestRegistration(t *testing.T) {
	t.Parallel()
	in := Instance{
		Service:         "stringsvc",
		ID:              "stringsvc-10.0.0.5-8080",
		Host:            "10.0.0.5",
		Port:            8080,
		HealthPath:      "/health",
		CheckInterval:   5 * time.Second,
		DeregisterAfter: time.Minute,
	}
	reg := in.Registration()

	if reg.ID != in.ID || reg.Name != "stringsvc" || reg.Address != "10.0.0.5" || reg.Port != 8080 {
		t.Errorf("registration = ID %q Name %q Address %q Port %d; want %q stringsvc 10.0.0.5 8080",
			reg.ID, reg.Name, reg.Address, reg.Port, in.ID)
	}
	c := reg.Check
	if c == nil {
		t.Fatal("registration has no check")
	}
	checks := []struct{ field, got, want string }{
		{"HTTP", c.HTTP, "http://10.0.0.5:8080/health"},
		{"Method", c.Method, "GET"},
		{"Interval", c.Interval, "5s"},
		{"Timeout", c.Timeout, "5s"},
		{"DeregisterCriticalServiceAfter", c.DeregisterCriticalServiceAfter, "1m0s"},
		{"CheckID", c.CheckID, "stringsvc-10.0.0.5-8080-http"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("Check.%s = %q, want %q", ck.field, ck.got, ck.want)
		}
	}
	// Consul parses these with time.ParseDuration; make sure they round-trip.
	for _, s := range []string{c.Interval, c.DeregisterCriticalServiceAfter} {
		if _, err := time.ParseDuration(s); err != nil {
			t.Errorf("duration %q does not parse: %v", s, err)
		}
	}
	if c.Name == "" {
		t.Error("Check.Name is empty")
	}
}

func TestRegistrationIPv6(t *testing.T) {
	t.Parallel()
	reg := Instance{Service: "stringsvc", ID: "x", Host: "fd00::5", Port: 8080, HealthPath: "/health",
		CheckInterval: time.Second, DeregisterAfter: time.Minute}.Registration()
	if want := "http://[fd00::5]:8080/health"; reg.Check.HTTP != want {
		t.Errorf("Check.HTTP = %q, want %q", reg.Check.HTTP, want)
	}
	if reg.Address != "fd00::5" {
		t.Errorf("Address = %q, want the bare IPv6 address fd00::5", reg.Address)
	}
}

// An instance without a host registers no address (Consul lists its node's) and is checked by
// its node's agent through loopback; its metadata goes into the registration.
func TestRegistrationWithoutHost(t *testing.T) {
	t.Parallel()
	reg := Instance{Service: "gateway", ID: "gateway-node1-8080", Port: 8080, HealthPath: "/health",
		Meta: map[string]string{MetricsPathMeta: "/metrics"}, CheckInterval: time.Second, DeregisterAfter: time.Minute}.Registration()
	if reg.Address != "" || reg.Check.HTTP != "http://127.0.0.1:8080/health" {
		t.Errorf("Address %q, Check.HTTP %q; want no address, checked at http://127.0.0.1:8080/health", reg.Address, reg.Check.HTTP)
	}
	if reg.Meta[MetricsPathMeta] != "/metrics" {
		t.Errorf("Meta = %v, want metrics_path /metrics", reg.Meta)
	}
}
