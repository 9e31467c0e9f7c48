//go:build integration

package systemtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

func TestServicesRegisterWhenConsulStartsAfterThem(t *testing.T) {
	var instances []*instance
	for range 3 {
		instances = append(instances, startStringsvc(t))
	}
	g := startGateway(t)
	if status, answer := g.post(t, "/stringsvc/uppercase", `{"s":"early"}`); status != http.StatusServiceUnavailable {
		t.Fatalf("before consul: %d %s, want 503", status, answer)
	}
	c := startConsul(t)
	c.waitPassing(t, 3, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)
	// The gateway may route before its view has the last of the three (Consul lists them passing
	// a moment before the gateway's blocking query returns them): each must get traffic soon.
	for _, in := range instances {
		testkit.Eventually(t, 10*time.Second, in.addr+" gets traffic", func() bool {
			g.post(t, "/stringsvc/uppercase", `{"s":"spread"}`)
			return in.served(t) > 0
		})
	}
}

func TestGatewayKeepsServingWhileConsulIsDown(t *testing.T) {
	s := startSystem(t)
	s.consul.stop(t)
	before := make([]int, len(s.instances))
	for i, in := range s.instances {
		before[i] = in.served(t)
	}
	requireNoFailures(t, startLoad(s.gateway, 8, 3*time.Second).wait(t))
	for i, in := range s.instances {
		if in.served(t) == before[i] {
			t.Errorf("%s got no traffic while consul was down", in.addr)
		}
	}
}

func TestConsulRestartLosesNoRequestsAndDiscoveryResumes(t *testing.T) {
	s := startSystem(t)
	l := startLoad(s.gateway, 8, 10*time.Second)
	reachable := func() float64 { return s.gateway.metric(t, "gateway_consul_reachable") }
	if v := reachable(); v != 1 {
		t.Fatalf("gateway_consul_reachable = %v before the restart, want 1", v)
	}
	s.consul.stop(t)
	testkit.Eventually(t, 5*time.Second, "gateway_consul_reachable drops to 0", func() bool { return reachable() == 0 })
	s.consul = startConsul(t) // a dev agent starts empty: every registration is gone
	s.consul.waitPassing(t, 3, 15*time.Second)
	testkit.Eventually(t, 10*time.Second, "gateway_consul_reachable is 1 again", func() bool { return reachable() == 1 })

	// Discovery has resumed only if an instance that appears now gets traffic.
	added := startStringsvc(t)
	s.consul.waitPassing(t, 4, 10*time.Second)
	testkit.Eventually(t, 3*time.Second, "the gateway routes to the instance added after the restart",
		func() bool { return added.served(t) > 0 })
	requireNoFailures(t, l.wait(t))
}
