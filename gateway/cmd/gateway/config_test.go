package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != ":8080" || c.retry.Attempts != 3 || c.retry.TryTimeout != 250*time.Millisecond ||
		c.retry.Budget != time.Second || c.breaker.Failures != 3 || c.breaker.Open != 5*time.Second {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if !c.retry.Hedge || c.retry.RetryBudget.Ratio != 0.2 || c.retry.RetryBudget.MinPerSecond != 10 ||
		c.outliers.MaxEjectedPercent != 50 || c.outliers.PanicPercent != 50 || c.admission.MaxInFlight != 1000 {
		t.Fatalf("unexpected resilience defaults: %+v", c)
	}
}

// -max-inflight 0 turns admission control off; a ceiling under the start lowers the start.
func TestAdmissionCeiling(t *testing.T) {
	c, err := parseConfig([]string{"-max-inflight", "50"})
	if err != nil || c.admission.InitialInFlight != 50 {
		t.Fatalf("%v, initial %d: want the start lowered to the ceiling", err, c.admission.InitialInFlight)
	}
	if c, err := parseConfig([]string{"-max-inflight", "0"}); err != nil || c.admission.MaxInFlight != 0 {
		t.Fatalf("%v: want 0 accepted (off)", err)
	}
}

func TestNomadAddressAndEnvironment(t *testing.T) {
	t.Setenv("NOMAD_IP_http", "127.0.0.3")
	t.Setenv("NOMAD_PORT_http", "8080")
	t.Setenv("GATEWAY_TRY_TIMEOUT", "100ms")
	c, err := parseConfig([]string{"-attempts", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.3:8080" || c.retry.TryTimeout != 100*time.Millisecond || c.retry.Attempts != 2 {
		t.Fatalf("listen=%q try=%v attempts=%d", c.listen, c.retry.TryTimeout, c.retry.Attempts)
	}
}

func TestListenVariableWinsOverNomadAddress(t *testing.T) {
	t.Setenv("NOMAD_IP_http", "127.0.0.3")
	t.Setenv("NOMAD_PORT_http", "8080")
	t.Setenv("GATEWAY_LISTEN", "0.0.0.0:8080")
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "0.0.0.0:8080" {
		t.Fatalf("listen=%q, want GATEWAY_LISTEN", c.listen)
	}
}

func TestBadConfigIsAnError(t *testing.T) {
	for _, args := range [][]string{
		{"-attempts", "0"},
		{"-breaker-failures", "0"},
		{"-max-conns-per-instance", "0"},
		{"-try-timeout", "0s"},
		{"-try-timeout", "2s", "-budget", "1s"},
		{"-consul-wait", "100ms"},
		{"-rate-limit", "0.5"},
		{"-rate-limit", "-1"},
		{"-rate-limit", "10", "-rate-burst", "-1"},
		{"-outlier-interval", "1ms"},
		{"-hedge-min-delay", "0s"},
		{"-max-ejection-percent", "101"},
		{"-panic-threshold", "-1"},
		{"-retry-budget-ratio", "-0.1"},
		{"-retry-budget-min", "-1"},
		{"-max-inflight", "4"},
		{"-max-inflight", "-1"},
		{"-max-queue", "-1"},
		{"-body-limit", "0"},
		{"-body-limit", "2GiB"},
		{"-body-limit", "2048MiB"},
		{"-route-grace", "-1s"},
		{"-routes-file", "/nonexistent/routes.hcl"},
	} {
		if _, err := parseConfig(args); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

// A malformed Consul address stops the binary at start, before it listens or registers.
func TestBadConsulAddressIsAnError(t *testing.T) {
	t.Setenv("CONSUL_HTTP_ADDR", "127.0.0.1:notaport")
	if _, err := parseConfig(nil); err == nil || !strings.Contains(err.Error(), "CONSUL_HTTP_ADDR") {
		t.Errorf("parseConfig error = %v, want one naming CONSUL_HTTP_ADDR", err)
	}
}

func TestRateLimitIsOffByDefaultAndItsBurstIsOneSecondsWorth(t *testing.T) {
	if c, err := parseConfig(nil); err != nil || c.rateLimit != 0 {
		t.Errorf("default rate limit %v (%v), want 0: off", c.rateLimit, err)
	}
	if c, err := parseConfig([]string{"-rate-limit", "10.5"}); err != nil || c.rateBurst != 11 {
		t.Errorf("-rate-limit 10.5: burst %d (%v), want 11", c.rateBurst, err)
	}
	if c, err := parseConfig([]string{"-rate-limit", "10", "-rate-burst", "3"}); err != nil || c.rateBurst != 3 {
		t.Errorf("-rate-burst 3: burst %d (%v), want 3", c.rateBurst, err)
	}
}

// The routes file is read at start with the flags' defaults; its routes keep what they set.
func TestRoutesFileAndBodyLimit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "routes.hcl")
	if err := os.WriteFile(file, []byte(`route "GET /legacy/ping" {
  service  = "legacy"
  attempts = 1
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig([]string{"-routes-file", file, "-body-limit", "64KiB", "-try-timeout", "100ms"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.fileRoutes) != 1 {
		t.Fatalf("routes %+v, want the file's one route", c.fileRoutes)
	}
	p := c.fileRoutes[0].Policy
	if c.bodyLimit != 64<<10 || p.BodyLimit != 64<<10 || p.Attempts != 1 || p.TryTimeout != 100*time.Millisecond || !p.Idempotent {
		t.Fatalf("body limit %d, policy %+v: want 64 KiB, 1 attempt of 100ms, idempotent (GET)", c.bodyLimit, p)
	}
	if err := os.WriteFile(file, []byte(`route "GET /x" {}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseConfig([]string{"-routes-file", file}); err == nil || !strings.Contains(err.Error(), file) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line naming the file", err)
	}
}
