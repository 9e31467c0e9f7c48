//go:build integration

package systemtest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

func TestGatewayAnswersThroughTheInstances(t *testing.T) {
	s := startSystem(t)
	huge := `{"s":"` + strings.Repeat("a", 1<<20) + `"}`
	for _, tc := range []struct {
		name, path, body string
		status           int
		answer           string
	}{
		{"uppercase", "/stringsvc/uppercase", `{"s":"foo"}`, 200, `{"v":"FOO"}`},
		{"count", "/stringsvc/count", `{"s":"foo"}`, 200, `{"v":3}`},
		{"instance's 400 passed through", "/stringsvc/uppercase", `{"s":""}`, 400, `{"err":"empty string"}`},
		{"malformed JSON", "/stringsvc/count", `{"s":`, 400, `{"err":"malformed JSON request: unexpected end of JSON input"}`},
		{"unknown path", "/stringsvc/reverse", `{"s":"foo"}`, 404, `{"err":"no route for /stringsvc/reverse"}`},
		{"body over 1 MiB", "/stringsvc/count", huge, 413, `{"err":"request body is larger than 1048576 bytes"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, answer := s.gateway.post(t, tc.path, tc.body)
			if status != tc.status || answer != tc.answer {
				t.Fatalf("got %d %s, want %d %s", status, answer, tc.status, tc.answer)
			}
		})
	}
	resp, err := http.Get(s.gateway.url + "/stringsvc/uppercase")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Fatalf("GET: %d Allow=%q, want 405 Allow=POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestRequestsSpreadOverAllThreeInstances(t *testing.T) {
	s := startSystem(t)
	before := make([]int, len(s.instances))
	for i, in := range s.instances {
		before[i] = in.served(t)
	}
	const requests = 300
	for range requests {
		if status, answer := s.gateway.post(t, "/stringsvc/uppercase", `{"s":"spread"}`); status != http.StatusOK {
			t.Fatalf("%d %s", status, answer)
		}
	}
	for i, in := range s.instances {
		got := in.served(t) - before[i]
		t.Logf("%s served %d of %d", in.addr, got, requests)
		if got < requests/len(s.instances)-10 { // round-robin: each gets its third
			t.Errorf("%s served %d of %d requests, want about a third", in.addr, got, requests)
		}
	}
}

// A route some service declares but no instance of which passes answers 503; a path no service
// declares answers 404 once Consul has answered (503 before: the gateway cannot know yet).
func TestRouteWithoutPassingInstanceIsA503AndUndeclaredPathA404(t *testing.T) {
	c := startConsul(t)
	// An instance whose TTL check is never passed: the catalog lists the service and its routes,
	// the health query no passing instance.
	reg := &api.AgentServiceRegistration{ID: "stringsvc-critical", Name: service, Tags: contract.Declarations(),
		Address: "127.0.0.1", Port: 1, Check: &api.AgentServiceCheck{TTL: "1m", Status: api.HealthCritical}}
	if err := c.api.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t)
	testkit.Eventually(t, 10*time.Second, "the declared route answers 503 no instances", func() bool {
		status, answer := g.post(t, "/stringsvc/uppercase", `{"s":"foo"}`)
		return status == http.StatusServiceUnavailable && strings.Contains(answer, "no instances")
	})
	if status, answer := g.post(t, "/nosuchsvc/uppercase", `{"s":"foo"}`); status != http.StatusNotFound {
		t.Fatalf("undeclared path: %d %s, want 404", status, answer)
	}
}

func TestNewInstanceGetsTrafficWithinASecondOfPassing(t *testing.T) {
	s := startSystem(t)
	l := startLoad(s.gateway, 4, 8*time.Second)
	added := startStringsvc(t)
	var passing time.Time
	testkit.Eventually(t, 5*time.Second, "the new instance passes in consul", func() bool {
		for _, id := range s.consul.passing(t) {
			if id == added.id {
				passing = time.Now()
				return true
			}
		}
		return false
	})
	testkit.Eventually(t, 5*time.Second, "the new instance serves a request", func() bool { return added.served(t) > 0 })
	delay := time.Since(passing)
	t.Logf("first request %v after the instance passed", delay)
	if delay > time.Second {
		t.Errorf("new instance got its first request %v after passing, want within 1s", delay)
	}
	requireNoFailures(t, l.wait(t))
}
