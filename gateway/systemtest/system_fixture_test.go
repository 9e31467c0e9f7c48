//go:build integration

package systemtest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

const (
	consulAddr = "127.0.0.1:8500"
	service    = "stringsvc"
	// tryTimeout is the gateway's per-attempt timeout in these tests (its default).
	tryTimeout = 250 * time.Millisecond
	// drain is how long a stopping stringsvc keeps serving after deregistering.
	drain = 2 * time.Second
)

// consulAgent is a real Consul agent on 127.0.0.1: a dev agent the test started (it keeps its state
// in memory only), or one Nomad runs (proc is nil).
type consulAgent struct {
	proc *process
	api  *api.Client
}

func startConsul(t *testing.T) *consulAgent {
	t.Helper()
	p := startProcess(t, "consul", bins.consul, nil,
		"agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1", "-log-level", "warn",
		"-hcl", "disable_update_check = true")
	c := connectConsul(t)
	c.proc = p
	testkit.Eventually(t, 20*time.Second, "consul has a leader", func() bool {
		leader, err := c.api.Status().Leader()
		return err == nil && leader != ""
	})
	return c
}

// connectConsul returns a client of the Consul agent at consulAddr, whoever started it.
func connectConsul(t *testing.T) *consulAgent {
	t.Helper()
	return connectConsulAt(t, consulAddr)
}

// connectConsulAt returns a client of the Consul agent at addr (host:port).
func connectConsulAt(t *testing.T, addr string) *consulAgent {
	t.Helper()
	client, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	return &consulAgent{api: client}
}

// stop ends the agent (a dev agent exits 1 on SIGTERM; that is not a failure).
func (c *consulAgent) stop(t *testing.T) {
	t.Helper()
	c.proc.signal(t, syscall.SIGTERM)
	c.proc.waitExit(t, 15*time.Second)
}

// passing returns the IDs of the service's passing instances.
func (c *consulAgent) passing(t *testing.T) []string {
	t.Helper()
	return c.instanceIDs(t, true)
}

func (c *consulAgent) instanceIDs(t *testing.T, passingOnly bool) []string {
	t.Helper()
	entries, _, err := c.api.Health().Service(service, "", passingOnly, nil)
	if err != nil {
		t.Fatalf("consul health query: %v", err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.Service.ID)
	}
	return ids
}

// passingInstances returns the stringsvc instances passing in Consul.
func (c *consulAgent) passingInstances(t *testing.T) []*instance {
	t.Helper()
	entries, _, err := c.api.Health().Service(service, "", true, nil)
	if err != nil {
		t.Fatalf("consul health query: %v", err)
	}
	var instances []*instance
	for _, entry := range entries {
		addr := fmt.Sprintf("%s:%d", entry.Service.Address, entry.Service.Port)
		instances = append(instances, &instance{id: entry.Service.ID, addr: addr})
	}
	return instances
}

func (c *consulAgent) waitPassing(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	testkit.Eventually(t, timeout, fmt.Sprintf("%d passing instances in consul", n), func() bool {
		ids, _, err := c.api.Health().Service(service, "", true, nil)
		return err == nil && len(ids) == n
	})
}

// instance is a running stringsvc.
type instance struct {
	proc *process
	addr string // host:port it serves on
	id   string // its Consul service ID
}

// startStringsvc starts a stringsvc registering in the Consul at consulAddr; env (NAME=value)
// adds to or overrides its environment.
func startStringsvc(t *testing.T, env ...string) *instance {
	t.Helper()
	p := startProcess(t, "stringsvc", bins.stringsvc,
		append([]string{"CONSUL_HTTP_ADDR=" + consulAddr, "LOG_JSON=true"}, env...),
		"-listen", "127.0.0.1:0", "-drain", drain.String(), "-resync", "500ms")
	entry := p.waitLogEntry(t, "listening", 10*time.Second)
	addr := fmt.Sprint(entry["addr"])
	p.name = "stringsvc " + addr
	return &instance{proc: p, addr: addr, id: fmt.Sprint(entry["id"])}
}

// startGraysvc starts a graysvc (stringsvc/cmd/graysvc): an instance that registers in the
// Consul at consulAddr as stringsvc, passes its health check and answers like stringsvc, but
// degraded as args say (-delay D with -delay-share F, -error-share F, -stall-every D -stall-for D).
func startGraysvc(t *testing.T, args ...string) *instance {
	t.Helper()
	p := startProcess(t, "graysvc", bins.graysvc, []string{"CONSUL_HTTP_ADDR=" + consulAddr},
		append([]string{"-listen", "127.0.0.1:0", "-drain", drain.String(), "-log-json"}, args...)...)
	entry := p.waitLogEntry(t, "listening", 10*time.Second)
	addr := fmt.Sprint(entry["addr"])
	p.name = "graysvc " + addr
	return &instance{proc: p, addr: addr, id: fmt.Sprint(entry["id"])}
}

// metrics returns the instance's Prometheus exposition.
func (in *instance) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + in.addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", in.addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// served returns how many requests the instance has served, from its Prometheus metrics.
func (in *instance) served(t *testing.T) int {
	t.Helper()
	total := 0
	for _, line := range strings.Split(in.metrics(t), "\n") {
		if !strings.HasPrefix(line, "stringsvc_requests_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += int(v)
	}
	return total
}

// gateway is a running gateway.
type gateway struct {
	proc *process
	url  string
}

// startGateway starts a gateway discovering through the Consul at consulAddr; env (NAME=value)
// adds to or overrides its environment.
func startGateway(t *testing.T, env ...string) *gateway {
	t.Helper()
	return startGatewayWith(t, env)
}

// startGatewayWith is startGateway with flags: args come after the defaults and so win over them
// (a flag also wins over its environment variable, -try-timeout over GATEWAY_TRY_TIMEOUT).
func startGatewayWith(t *testing.T, env []string, args ...string) *gateway {
	t.Helper()
	addr := freeAddr(t)
	p := startProcess(t, "gateway", bins.gateway,
		append([]string{"CONSUL_HTTP_ADDR=" + consulAddr, "LOG_JSON=true"}, env...),
		append([]string{"-listen", addr, "-try-timeout", tryTimeout.String()}, args...)...)
	p.waitLogEntry(t, "listening", 10*time.Second)
	return &gateway{proc: p, url: "http://" + addr}
}

// post sends body to the gateway path and returns the status and body of the answer.
func (g *gateway) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(g.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(bytes.TrimSpace(answer))
}

// waitRoutes waits until the gateway answers n requests in a row with 200 (a gateway that does
// not listen yet counts as not answering).
func (g *gateway) waitRoutes(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	testkit.Eventually(t, timeout, fmt.Sprintf("the gateway answers %d requests in a row", n), func() bool {
		for range n {
			resp, err := http.Post(g.url+"/stringsvc/uppercase", "application/json", strings.NewReader(`{"s":"ready"}`))
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false
			}
		}
		return true
	})
}

// breakerOpened reports whether the gateway logged the breaker of route@addr opening.
func (g *gateway) breakerOpened(route, addr string) bool {
	return g.proc.findLogEntry("circuit breaker state changed",
		map[string]string{"breaker": route + "@" + addr, "to": "open"}) != nil
}

// system is Consul, three stringsvc instances and a gateway that routes to all three.
type system struct {
	consul    *consulAgent
	instances []*instance
	gateway   *gateway
}

func startSystem(t *testing.T) *system {
	t.Helper()
	s := &system{consul: startConsul(t)}
	for range 3 {
		s.instances = append(s.instances, startStringsvc(t))
	}
	s.gateway = startGateway(t)
	s.consul.waitPassing(t, 3, 15*time.Second)
	s.gateway.waitRoutes(t, 10, 10*time.Second)
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
