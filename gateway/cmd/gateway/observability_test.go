package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kitlog "github.com/go-kit/log"

	"github.com/example/gokit-nomad/gateway/status"
	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// An instance that starts failing opens its breaker, and /metrics and /status show it open; once
// it recovers, a probe closes the breaker, and both show it closed, with every transition counted.
func TestMetricsAndStatusShowABreakerOpenAndClose(t *testing.T) {
	healthy := strings.TrimPrefix(startInstance(t).URL, "http://")
	flaky, failing := startFlakyInstance(t)
	const open = 300 * time.Millisecond
	gateway := startGatewayWith(t, []string{healthy, flaky}, func(p *parts) { p.settings.Breaker.Open = open })

	failing.Store(true)
	testkit.Eventually(t, 5*time.Second, "the flaky instance's breaker opens", func() bool {
		postUppercase(t, gateway) // answered by the healthy instance, after a retry if need be
		return breakerState(t, gateway, flaky) == "open"
	})
	metrics := get(t, gateway+"/metrics", "")
	for _, want := range []string{
		fmt.Sprintf(`gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q} 2`, flaky),
		fmt.Sprintf(`gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q} 0`, healthy),
		fmt.Sprintf(`gateway_breaker_transitions_total{from="closed",route="POST /stringsvc/uppercase",service="stringsvc",to="open",upstream=%q} 1`, flaky),
		fmt.Sprintf(`gateway_upstream_attempts_total{outcome="server_error",route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q} 3`, flaky),
		`gateway_instances{route="POST /stringsvc/uppercase",service="stringsvc"} 2`,
		`gateway_instances_ejected{route="POST /stringsvc/uppercase",service="stringsvc"} 1`,
		"gateway_consul_reachable 0", // this gateway has no Consul
		// Series that alerts read are there before anything happened, at zero.
		`gateway_panic{route="POST /stringsvc/uppercase",service="stringsvc"} 0`,
		`gateway_hedges_total{result="won",route="POST /stringsvc/count",service="stringsvc"} 0`,
		`gateway_retry_budget_exhausted_total{route="POST /stringsvc/uppercase",service="stringsvc"} 0`,
		`gateway_admission_shed_total{service="stringsvc"} 0`,
		`gateway_failures_total{kind="shed",route="POST /stringsvc/count",service="stringsvc"} 0`,
		`gateway_admission_limit{service="stringsvc"} 100`,
		`gateway_admission_queued{service="stringsvc"} 0`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if v := testkit.MetricValue(metrics, `gateway_retries_total{route="POST /stringsvc/uppercase",service="stringsvc"}`); v < 3 {
		t.Errorf("retries = %v, want at least one per failed attempt (3)", v)
	}
	if v := testkit.MetricValue(metrics, `gateway_requests_total{code="200",route="POST /stringsvc/uppercase",service="stringsvc"}`); v < 3 {
		t.Errorf("requests answered 200 = %v: every request should have been answered", v)
	}
	report := statusReport(t, gateway)
	st := routeState(t, report, flaky, "POST /stringsvc/uppercase")
	if st.Breaker != "open" || st.Failures != 3 || !strings.Contains(st.LastError, "500") || st.LastErrorAt == nil {
		t.Errorf("status of %s = %+v, want open after 3 failures, with the 500 as last error", flaky, st)
	}
	page := get(t, gateway+"/status", "text/html")
	if want := fmt.Sprintf(`data-instance="%s" data-route="POST /stringsvc/uppercase" data-breaker="open"`, flaky); !strings.Contains(page, want) {
		t.Errorf("the HTML status page lacks %s:\n%s", want, page)
	}

	failing.Store(false)
	testkit.Eventually(t, 10*open, "the recovered instance's breaker closes", func() bool {
		postUppercase(t, gateway)
		return breakerState(t, gateway, flaky) == "closed"
	})
	metrics = get(t, gateway+"/metrics", "")
	for _, want := range []string{
		fmt.Sprintf(`gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream=%q} 0`, flaky),
		fmt.Sprintf(`gateway_breaker_transitions_total{from="open",route="POST /stringsvc/uppercase",service="stringsvc",to="half-open",upstream=%q} 1`, flaky),
		fmt.Sprintf(`gateway_breaker_transitions_total{from="half-open",route="POST /stringsvc/uppercase",service="stringsvc",to="closed",upstream=%q} 1`, flaky),
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// startFlakyInstance serves stringsvc, or 500 to every request while failing is true.
func startFlakyInstance(t *testing.T) (addr string, failing *atomic.Bool) {
	t.Helper()
	failing = new(atomic.Bool)
	real := transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger())
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.Header().Set("Content-Type", contract.JSONContentType)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"err":"injected failure"}`)
			return
		}
		real.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), failing
}

func postUppercase(t *testing.T, gateway string) {
	t.Helper()
	resp, err := http.Post(gateway+"/stringsvc/uppercase", contract.JSONContentType, strings.NewReader(`{"s":"abc"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answered %d %s, want 200: the healthy instance should answer", resp.StatusCode, body)
	}
}

// get returns the body of a 200 answer to GET url, sent with the given Accept header.
func get(t *testing.T, url, accept string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

func statusReport(t *testing.T, gateway string) status.Report {
	t.Helper()
	var report status.Report
	if err := json.Unmarshal([]byte(get(t, gateway+"/status", "")), &report); err != nil {
		t.Fatalf("/status is not a status.Report: %v", err)
	}
	return report
}

// routeState finds an instance's endpoint on a route in a report.
func routeState(t *testing.T, report status.Report, instance, route string) status.RouteState {
	t.Helper()
	for _, svc := range report.Services {
		for _, in := range svc.Instances {
			for _, st := range in.Routes {
				if in.Address == instance && st.Route == route {
					return st
				}
			}
		}
	}
	t.Fatalf("the status report lacks %s on %s: %+v", instance, route, report)
	return status.RouteState{}
}

func breakerState(t *testing.T, gateway, instance string) string {
	t.Helper()
	return routeState(t, statusReport(t, gateway), instance, "POST /stringsvc/uppercase").Breaker
}
