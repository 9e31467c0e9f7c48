//go:build integration

package systemtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// The monitoring steps of TestNomadEndToEnd: the Prometheus that deploy.sh ran with the other
// jobs (nomad/prometheus.nomad, scraping every 2 s here) found everything through Consul.

// prometheusURL is where the end-to-end test's Prometheus listens (its static port, the node's
// address).
const prometheusURL = "http://127.0.0.1:9090"

// scrapeInterval is the Prometheus job's scrape and evaluation interval in the end-to-end test.
const scrapeInterval = "2s"

// monitoringScraped: Prometheus scrapes the three stringsvc allocations, the gateway, the Nomad
// agent and itself, every one up, and nothing else.
func (e *endToEnd) monitoringScraped(t *testing.T) {
	var want []string
	for _, a := range e.nomad.running(t, "stringsvc") {
		want = append(want, fmt.Sprintf("127.0.0.1:%d", e.nomad.port(t, a.ID, "http")))
	}
	slices.Sort(want)
	var targets []promTarget
	testkit.Eventually(t, 60*time.Second, "Prometheus scrapes every instance, the gateway, Nomad and itself, all up", func() bool {
		var err error
		if targets, err = e.prometheus.targets(); err != nil {
			return false
		}
		up, all := upByJob(targets)
		return slices.Equal(instancesOf(targets, "stringsvc"), want) && up["stringsvc"] == 3 &&
			up["gateway"] == 1 && up["nomad"] == 1 && up["prometheus"] == 1 && len(targets) == 6 && all["gateway"] == 1
	})
	if got := instancesOf(targets, "gateway"); !slices.Equal(got, []string{"127.0.0.1:8080"}) {
		t.Errorf("gateway targets %v, want the gateway at 127.0.0.1:8080", got)
	}
	for _, tg := range targets {
		t.Logf("target %s %s %s", tg.Labels["job"], tg.ScrapeURL, tg.Health)
	}
	up, err := e.prometheus.query(`up`)
	if err != nil || len(up) != 6 {
		t.Fatalf("up: %v, %v; want 6 series", up, err)
	}
	for _, s := range up {
		// Each target found in Consul carries the node it registered on.
		if s.Value[1] != "1" || s.Metric["node"] == "" && s.Metric["job"] != "prometheus" {
			t.Errorf("up%v = %v, want 1 with a node label", s.Metric, s.Value[1])
		}
	}
}

// monitoringLinted: what the job's templates rendered passes promtool (the configuration, with
// the rules it loads), the rules arrived unchanged, and both binaries' /metrics pass promtool's
// linter.
func (e *endToEnd) monitoringLinted(t *testing.T) {
	allocs := e.nomad.running(t, "prometheus")
	if len(allocs) != 1 {
		t.Fatalf("%d prometheus allocations, want 1", len(allocs))
	}
	local := filepath.Join(e.nomad.dir, "alloc", allocs[0].ID, "prometheus", "local")
	promtool(t, "", "check", "config", filepath.Join(local, "prometheus.yml"))
	for _, rules := range []string{"recording.rules.yml", "alerts.rules.yml"} {
		rendered, err := os.ReadFile(filepath.Join(local, "rules", rules))
		if err != nil {
			t.Fatal(err)
		}
		source, err := os.ReadFile(filepath.Join(prometheusConfigDir(), rules))
		if err != nil {
			t.Fatal(err)
		}
		if string(rendered) != string(source) {
			t.Errorf("%s: the template changed the rules", rules)
		}
	}
	promtool(t, string(e.gateway.get(t, "/metrics")), "check", "metrics")
	instances := e.consul.passingInstances(t)
	promtool(t, instances[0].metrics(t), "check", "metrics")
}

// monitoringQueried: every PromQL expression of the dashboard (docs/grafana-dashboard.json)
// parses and returns data, and the gateway's breaker states are there to query, one per
// instance and route.
func (e *endToEnd) monitoringQueried(t *testing.T) {
	l := startLoad(e.gateway, 2, 60*time.Second) // traffic for the rates
	defer func() { l.stop(); requireNoFailures(t, l.wait(t)) }()

	states, err := e.prometheus.query(`gateway_breaker_state`)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]int{}
	for _, s := range states {
		routes[s.Metric["route"]]++
		if s.Value[1] != "0" || s.Metric["upstream"] == "" || s.Metric["job"] != "gateway" {
			t.Errorf("gateway_breaker_state%v = %v, want 0 (closed) for an upstream, from job gateway", s.Metric, s.Value[1])
		}
	}
	if routes["POST /stringsvc/uppercase"] != 3 || routes["POST /stringsvc/count"] != 3 {
		t.Errorf("breaker states per route %v, want each instance on both routes", routes)
	}

	exprs := dashboardQueries(t, filepath.Join(repoRoot, "docs", "grafana-dashboard.json"))
	if len(exprs) < 10 {
		t.Fatalf("%d queries in the dashboard, want one per panel (10 or more)", len(exprs))
	}
	// Recorded series appear at the rules' first evaluations: every query has a minute.
	missing := map[string]error{}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		clear(missing)
		for _, expr := range exprs {
			samples, err := e.prometheus.query(expr)
			if err != nil && strings.Contains(err.Error(), "parse error") {
				t.Fatalf("dashboard query %s: %v", expr, err)
			}
			if err != nil || len(samples) == 0 {
				missing[expr] = err
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for expr, err := range missing {
		t.Errorf("the dashboard query %s returned no data within 60 s (err %v)", expr, err)
	}
	t.Logf("%d of %d dashboard queries return data", len(exprs)-len(missing), len(exprs))
}

// monitoringBreakerAlert: an instance that fails every request (graysvc, registered beside the
// allocations) opens its breaker in the gateway; GatewayUpstreamEjected goes pending, then
// fires after its 2 minutes, and resolves once the instance is gone. No client request fails.
func (e *endToEnd) monitoringBreakerAlert(t *testing.T) {
	l := startLoad(e.gateway, 2, 4*time.Minute)
	defer func() { l.stop(); requireNoFailures(t, l.wait(t)) }()
	bad := startGraysvc(t, "-error-share", "1")
	labels := map[string]string{"upstream": bad.addr, "route": "POST /stringsvc/uppercase"}

	begin := time.Now()
	testkit.Eventually(t, 30*time.Second, "GatewayUpstreamEjected is pending for "+bad.addr, func() bool {
		return e.prometheus.alertState(t, "GatewayUpstreamEjected", labels) == "pending"
	})
	pending := time.Since(begin)
	testkit.Eventually(t, 3*time.Minute, "GatewayUpstreamEjected fires for "+bad.addr, func() bool {
		state := e.prometheus.alertState(t, "GatewayUpstreamEjected", labels)
		if state == "" {
			t.Fatalf("the alert went away before it fired")
		}
		return state == "firing"
	})
	firing := time.Since(begin)

	bad.proc.signal(t, syscall.SIGTERM) // it leaves Consul, the gateway drops it, its series go
	bad.proc.waitExit(t, 15*time.Second)
	testkit.Eventually(t, 60*time.Second, "GatewayUpstreamEjected resolves", func() bool {
		return e.prometheus.alertState(t, "GatewayUpstreamEjected", labels) == ""
	})
	t.Logf("GatewayUpstreamEjected: pending after %v, firing after %v, resolved after %v",
		pending.Round(time.Second), firing.Round(time.Second), time.Since(begin).Round(time.Second))
	e.consul.waitPassing(t, 3, 30*time.Second)
}
