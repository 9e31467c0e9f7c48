//go:build integration

package systemtest

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// nodeAddrs are the addresses of scripts/cluster.sh's nodes: node i is nodeAddrs[i-1].
var nodeAddrs = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// TestThreeNodeCluster brings up scripts/cluster.sh's cluster — three Nomad servers and clients
// on 127.0.0.1-3, configured from the template the Vagrant VMs use, with every job of nomad/
// deployed by scripts/deploy.sh — and checks what only a multi-node cluster shows: both quorums,
// stringsvc spread over the nodes and registered with each node's own Consul agent, every node's
// gateway routing to every instance, a rolling update across the nodes and the crash of a whole
// node under a steady stream of requests (neither may fail one). `cluster.sh down` runs at the end
// and must leave nothing behind. The steps share the cluster and run in order.
func TestThreeNodeCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("scripts/cluster.sh needs root: it gives 127.0.0.2 and 127.0.0.3 interfaces of their own")
	}
	c := clusterUp(t)
	runSteps(t, []step{
		{"nomad: 3 servers with one leader, 3 ready clients", c.nomadQuorum},
		{"consul: 3 servers with one leader", c.consulQuorum},
		{"stringsvc: one allocation per node, registered with its node's consul agent", c.placement},
		{"every node's gateway spreads requests over all three instances", c.spread},
		{"canary deploy across the nodes under load", c.canaryDeploy},
		{"crash of the nomad leader's node under load", c.nodeLoss},
	})
}

func (c *threeNodes) nomadQuorum(t *testing.T) {
	leaders := map[string]bool{}
	for i, n := range c.nomad {
		var leader string
		var peers []string
		if err := n.get("/v1/status/leader", &leader); err != nil {
			t.Fatalf("node%d: %v", i+1, err)
		}
		if err := n.get("/v1/status/peers", &peers); err != nil || len(peers) != 3 {
			t.Errorf("node%d: raft peers %v (%v), want 3", i+1, peers, err)
		}
		leaders[leader] = true
	}
	if len(leaders) != 1 || leaders[""] {
		t.Errorf("the nodes name the leaders %v, want one", leaders)
	}
	var nodes []struct{ Name, Status string }
	if err := c.nomad[0].get("/v1/nodes?resources=false", &nodes); err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, n := range nodes {
		if n.Status == "ready" {
			ready++
		}
	}
	if len(nodes) != 3 || ready != 3 {
		t.Errorf("clients: %+v, want 3 ready", nodes)
	}
}

func (c *threeNodes) consulQuorum(t *testing.T) {
	testkit.Eventually(t, 30*time.Second, "the three consul agents name one leader among 3 raft peers", func() bool {
		leaders := map[string]bool{}
		for _, agent := range c.consul {
			leader, err := agent.api.Status().Leader()
			peers, perr := agent.api.Status().Peers()
			if err != nil || perr != nil || len(peers) != 3 {
				return false
			}
			leaders[leader] = true
		}
		return len(leaders) == 1 && !leaders[""]
	})
}

// placement checks that the three stringsvc allocations run on three different nodes and that each
// registered with the Consul agent of its own node (and only there), at its node's address and the
// port Nomad gave it.
func (c *threeNodes) placement(t *testing.T) {
	c.consul[0].waitPassing(t, 3, 30*time.Second)
	allocs := c.nomad[0].running(t, "stringsvc")
	seen := map[int]bool{}
	for _, a := range allocs {
		node := c.nodeOf(t, a)
		seen[node] = true
		want := fmt.Sprintf("%s:%d", nodeAddrs[node], c.nomad[0].port(t, a.ID, "http"))
		for i, agent := range c.consul {
			services, err := agent.api.Agent().Services()
			if err != nil {
				t.Fatalf("consul agent of node%d: %v", i+1, err)
			}
			svc, found := services[instanceID(a)]
			switch {
			case i == node && !found:
				t.Errorf("%s is not registered with the agent of its node%d", instanceID(a), i+1)
			case i == node && fmt.Sprintf("%s:%d", svc.Address, svc.Port) != want:
				t.Errorf("%s is registered at %s:%d, want %s", instanceID(a), svc.Address, svc.Port, want)
			case i != node && found:
				t.Errorf("%s of node%d is registered with the agent of node%d", instanceID(a), node+1, i+1)
			}
		}
	}
	if len(allocs) != 3 || len(seen) != 3 {
		t.Errorf("%d running allocations on %d nodes, want 3 on 3", len(allocs), len(seen))
	}
}

// nodeOf returns the index in nodeAddrs of the node that runs the allocation.
func (c *threeNodes) nodeOf(t *testing.T, a allocation) int {
	t.Helper()
	var node struct{ Attributes map[string]string }
	if err := c.anyNomad().get("/v1/node/"+a.NodeID, &node); err != nil {
		t.Fatalf("node of allocation %s: %v", a.ID, err)
	}
	i := slices.Index(nodeAddrs, node.Attributes["unique.network.ip-address"])
	if i < 0 {
		t.Fatalf("allocation %s runs on a node with address %q", a.ID, node.Attributes["unique.network.ip-address"])
	}
	return i
}

func (c *threeNodes) spread(t *testing.T) {
	instances := c.consul[0].passingInstances(t)
	for i, g := range c.gateways {
		before := make([]int, len(instances))
		for j, in := range instances {
			before[j] = in.served(t)
		}
		const requests = 30
		for range requests {
			if status, answer := g.post(t, "/stringsvc/uppercase", `{"s":"spread"}`); status != http.StatusOK {
				t.Fatalf("gateway of node%d: %d %s", i+1, status, answer)
			}
		}
		for j, in := range instances {
			if got := in.served(t) - before[j]; got == 0 {
				t.Errorf("gateway of node%d sent none of %d requests to %s (%s)", i+1, requests, in.id, in.addr)
			}
		}
	}
}

// canaryDeploy is the end-to-end test's canary deploy of a good release, on the cluster (whose
// release store cluster.sh serves); the new allocations must be spread over the three nodes again.
func (c *threeNodes) canaryDeploy(t *testing.T) {
	// The new release keeps cluster.sh's driver, raw_exec (scripts/cluster.sh says why).
	e := &endToEnd{nomad: c.nomad[0], store: c.releases, vars: []string{"NOMAD_VAR_driver=raw_exec"}, consul: c.consul[0], gateway: c.gateways[0]}
	e.canaryPromoted(t)
	nodes := map[int]bool{}
	for _, a := range c.nomad[0].running(t, "stringsvc") {
		nodes[c.nodeOf(t, a)] = true
	}
	if len(nodes) != 3 {
		t.Errorf("after the update stringsvc runs on %d nodes, want 3", len(nodes))
	}
}

// nodeLoss crashes the node of Nomad's leader — the worst node to lose: its Nomad agent and
// everything it runs (a Consul server, a stringsvc instance, a gateway) — under a steady stream
// through the gateway of another node. No request may fail; Consul and Nomad keep a leader with 2 of
// 3 servers; Nomad replaces the lost allocation on a surviving node, and the replacement registers
// and gets traffic.
func (c *threeNodes) nodeLoss(t *testing.T) {
	var leader string
	if err := c.nomad[0].get("/v1/status/leader", &leader); err != nil {
		t.Fatal(err)
	}
	lost := slices.Index(nodeAddrs, strings.TrimSuffix(leader, ":4647"))
	if lost < 0 {
		t.Fatalf("nomad leader %q is none of the nodes", leader)
	}
	name, alive := fmt.Sprintf("node%d", lost+1), (lost+1)%len(nodeAddrs) // a surviving node's index
	nomad, consul := c.nomad[alive], c.consul[alive]
	before := nomad.running(t, "stringsvc")

	l := startLoad(c.gateways[alive], 16, 3*time.Minute)
	defer l.stop()
	time.Sleep(2 * time.Second) // let the stream run before the fault
	crashed := time.Now()
	out, err := c.script(t, "kill-node", fmt.Sprint(lost+1))
	if err != nil {
		t.Fatalf("cluster.sh kill-node: %v\n%s", err, out)
	}
	t.Logf("nomad's leader was on %s; %s", name, strings.TrimSpace(out))

	var replacement allocation
	testkit.Eventually(t, 2*time.Minute, "nomad runs a replacement of the lost stringsvc allocation", func() bool {
		running, err := nomad.tryRunning("stringsvc") // fails while a new leader is elected
		if err != nil {
			return false
		}
		for _, a := range running {
			if !slices.ContainsFunc(before, func(b allocation) bool { return b.ID == a.ID }) {
				replacement = a
				return true
			}
		}
		return false
	})
	placed := time.Since(crashed)
	if c.nodeOf(t, replacement) == lost {
		t.Fatalf("the replacement %s was placed on the crashed %s", replacement.ID, name)
	}
	var in *instance
	testkit.Eventually(t, time.Minute, "the replacement passes in consul, the lost instance does not", func() bool {
		instances := consul.passingInstances(t)
		i := slices.IndexFunc(instances, func(in *instance) bool { return in.id == instanceID(replacement) })
		if len(instances) != 3 || i < 0 {
			return false
		}
		in = instances[i]
		return !slices.ContainsFunc(instances, func(in *instance) bool { return strings.HasPrefix(in.addr, nodeAddrs[lost]+":") })
	})
	passing := time.Since(crashed)
	testkit.Eventually(t, 10*time.Second, "the replacement gets traffic", func() bool { return in.served(t) > 0 })
	l.stop()
	requireNoFailures(t, l.wait(t))
	t.Logf("%s crashed: replacement allocation running after %v, passing in consul after %v", name,
		placed.Round(100*time.Millisecond), passing.Round(100*time.Millisecond))

	testkit.Eventually(t, 30*time.Second, "the two surviving consul servers name one leader among them", func() bool {
		var leaders []string
		for i, agent := range c.consul {
			if i != lost {
				leader, err := agent.api.Status().Leader()
				if err != nil {
					return false
				}
				leaders = append(leaders, leader)
			}
		}
		return leaders[0] == leaders[1] && leaders[0] != "" && leaders[0] != nodeAddrs[lost]+":8300"
	})
	if err := nomad.get("/v1/status/leader", &leader); err != nil || leader == "" || leader == nodeAddrs[lost]+":4647" {
		t.Errorf("nomad leader after the crash: %q (%v)", leader, err)
	}
	var node struct{ Status string }
	for _, a := range before {
		if c.nodeOf(t, a) == lost {
			if err := nomad.get("/v1/node/"+a.NodeID, &node); err != nil || node.Status != "down" {
				t.Errorf("%s status %q (%v), want down", name, node.Status, err)
			}
		}
	}
}
