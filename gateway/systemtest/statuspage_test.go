//go:build integration

package systemtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// breakerOpen is the gateway's -breaker-open in this test: how long an open breaker waits before
// its probe. It covers the checks of the open state, two Chromium runs among them (2-3 s each).
const breakerOpen = 15 * time.Second

// An instance that fails opens its breaker: the gateway's log, /metrics, /status and the status
// page rendered by a real browser (headless Chromium) all show it open; once the instance
// recovers, the probe closes the breaker and all of them show it closed. The page is also saved as
// a screenshot: into $STATUS_SCREENSHOT when set (docs/operations.md, "Status page": how docs/status-page.png is made).
func TestStatusPageAndMetricsShowABreakerOpenAndClose(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (scripts/deps.sh installs it): the status page test renders the page in it")
	}
	consul := startConsul(t)
	backend := startStringsvc(t)
	startStringsvc(t)
	flaky, failing := startFlakyInstance(t, consul, backend.addr)
	g := startGateway(t, "GATEWAY_BREAKER_OPEN="+breakerOpen.String())
	consul.waitPassing(t, 3, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)

	failing.Store(true)
	testkit.Eventually(t, 10*time.Second, "the failing instance's breaker opens", func() bool {
		if status, answer := g.post(t, "/stringsvc/uppercase", `{"s":"probe"}`); status != http.StatusOK {
			t.Fatalf("answered %d %s: another instance should have answered", status, answer)
		}
		return g.breakerState(t, flaky) == "open"
	})
	if !g.breakerOpened("POST /stringsvc/uppercase", flaky) {
		t.Error("the gateway did not log the breaker opening")
	}
	if v := g.metric(t, fmt.Sprintf(`gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q}`, flaky)); v != 2 {
		t.Errorf("gateway_breaker_state of the failing instance = %v, want 2 (open)", v)
	}
	if v := g.metric(t, fmt.Sprintf(`gateway_upstream_attempts_total{outcome="server_error",route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q}`, flaky)); v != 3 {
		t.Errorf("failed attempts on the failing instance = %v, want 3 (-breaker-failures)", v)
	}
	dom := renderStatusPage(t, chromium, g.url, flaky, "open")
	if !strings.Contains(dom, "injected failure") || !strings.Contains(dom, " ago") {
		t.Error("the page lacks the last error, or when Consul last listed the instances")
	}
	saveScreenshot(t, chromium, g.url+"/status")

	failing.Store(false)
	testkit.Eventually(t, 2*breakerOpen, "the recovered instance's breaker closes", func() bool {
		g.post(t, "/stringsvc/uppercase", `{"s":"probe"}`)
		return g.breakerState(t, flaky) == "closed"
	})
	for _, step := range [][2]string{{"open", "half-open"}, {"half-open", "closed"}} {
		if g.proc.findLogEntry("circuit breaker state changed",
			map[string]string{"breaker": "POST /stringsvc/uppercase@" + flaky, "from": step[0], "to": step[1]}) == nil {
			t.Errorf("the gateway did not log the breaker going from %s to %s", step[0], step[1])
		}
		series := fmt.Sprintf(`gateway_breaker_transitions_total{from=%q,route="POST /stringsvc/uppercase",service="stringsvc",to=%q,upstream=%q}`, step[0], step[1], flaky)
		if v := g.metric(t, series); v != 1 {
			t.Errorf("%s = %v, want 1", series, v)
		}
	}
	if v := g.metric(t, fmt.Sprintf(`gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q}`, flaky)); v != 0 {
		t.Errorf("gateway_breaker_state of the recovered instance = %v, want 0 (closed)", v)
	}
	renderStatusPage(t, chromium, g.url, flaky, "closed")
}

// startFlakyInstance registers in Consul an instance (without health check: it always passes)
// that forwards to the stringsvc at backend, or answers 500 while failing is true. It returns the
// instance's address (host:port).
func startFlakyInstance(t *testing.T, consul *consulAgent, backend string) (addr string, failing *atomic.Bool) {
	t.Helper()
	failing = new(atomic.Bool)
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backend})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"err":"injected failure"}`)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	host, port, err := net.SplitHostPort(server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	reg := &api.AgentServiceRegistration{ID: service + "-flaky", Name: service, Tags: contract.Declarations(), Address: host, Port: n}
	if err := consul.api.Agent().ServiceRegister(reg); err != nil {
		t.Fatalf("registering the flaky instance: %v", err)
	}
	return server.Listener.Addr().String(), failing
}

// breakerState returns the state of instance's breaker on the uppercase route, from /status.
func (g *gateway) breakerState(t *testing.T, instance string) string {
	t.Helper()
	var report struct {
		Services []struct {
			Instances []struct {
				Address string
				Routes  []struct{ Route, Breaker string }
			}
		}
	}
	if err := json.Unmarshal(g.get(t, "/status"), &report); err != nil {
		t.Fatalf("/status: %v", err)
	}
	for _, svc := range report.Services {
		for _, in := range svc.Instances {
			for _, r := range in.Routes {
				if in.Address == instance && r.Route == "POST /stringsvc/uppercase" {
					return r.Breaker
				}
			}
		}
	}
	t.Fatalf("/status does not list %s", instance)
	return ""
}

// metric returns the value of one series of the gateway's /metrics (-1: absent).
func (g *gateway) metric(t *testing.T, series string) float64 {
	t.Helper()
	return testkit.MetricValue(string(g.get(t, "/metrics")), series)
}

// get returns the body of a 200 answer to GET path.
func (g *gateway) get(t *testing.T, path string) []byte {
	t.Helper()
	return getOK(t, g.url+path)
}

// getOK returns the body of a GET of url, failing the test unless the answer is a 200.
func getOK(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

// chromiumArgs are the flags of every headless run: no sandbox (the test runs as root), no GPU,
// nothing fetched in the background, a profile of its own.
func chromiumArgs(t *testing.T) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--disable-sync", "--disable-component-update", "--disable-default-apps",
		"--user-data-dir=" + t.TempDir()}
}

// renderStatusPage loads the status page in headless Chromium and checks that the rendered DOM
// shows instance's uppercase breaker in the given state; it returns the DOM.
func renderStatusPage(t *testing.T, chromium, gatewayURL, instance, breaker string) string {
	t.Helper()
	out := runChromium(t, chromium, append(chromiumArgs(t), "--dump-dom", gatewayURL+"/status")...)
	dom := string(out)
	want := fmt.Sprintf(`data-instance="%s" data-route="POST /stringsvc/uppercase" data-breaker="%s"`, instance, breaker)
	if !strings.Contains(dom, want) || !strings.Contains(dom, fmt.Sprintf(`breaker-%s">%s</span>`, breaker, breaker)) {
		t.Fatalf("the page Chromium rendered does not show %s's breaker %s:\n%s", instance, breaker, dom)
	}
	return dom
}

// saveScreenshot takes a screenshot of url, checks it is a PNG, and copies it to
// $STATUS_SCREENSHOT when that is set.
func saveScreenshot(t *testing.T, chromium, url string) {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "status.png")
	runChromium(t, chromium, append(chromiumArgs(t), "--hide-scrollbars", "--window-size=1280,420",
		"--screenshot="+shot, url)...)
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("no PNG screenshot (%v)", err)
	}
	if dest := os.Getenv("STATUS_SCREENSHOT"); dest != "" {
		if err := os.WriteFile(dest, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the status page saved to %s", dest)
	}
}

// runChromium runs Chromium to its end (at most 60 s) and returns its standard output.
func runChromium(t *testing.T, chromium string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(chromium, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("chromium did not finish within 60 s\n%s", stderr.String())
	}
	return stdout.Bytes()
}
