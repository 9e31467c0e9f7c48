//go:build integration

package systemtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// threeNodes is a cluster that scripts/cluster.sh started; index i of each slice is node i+1.
type threeNodes struct {
	env      []string // of cluster.sh: binaries from the test, state and run dir in a test dir
	stateDir string
	releases *releaseStore // the store cluster.sh serves (outside stateDir: it outlives the cluster)
	cgroups  []string      // the cgroup dirs the nodes may create, all absent before up
	nomad    []*nomadAgent
	consul   []*consulAgent
	gateways []*gateway
}

func clusterUp(t *testing.T) *threeNodes {
	t.Helper()
	dir, releases := t.TempDir(), &releaseStore{dir: t.TempDir()}
	c := &threeNodes{
		stateDir: dir,
		releases: releases,
		cgroups:  absentCgroups("nomad", "gokit-nomad-node1", "gokit-nomad-node2", "gokit-nomad-node3"),
		env: append(os.Environ(),
			// Nomad and Consul come from PATH, the services from BIN_DIR, as for a user; the
			// release store is the test's own.
			"PATH="+filepath.Dir(bins.nomad)+":"+filepath.Dir(bins.consul)+":"+os.Getenv("PATH"),
			"BIN_DIR="+filepath.Dir(bins.stringsvc), "ARTIFACT_STORE="+releases.dir,
			"XDG_RUNTIME_DIR="+dir, "TMPDIR="+dir, "DEPLOY_TIMEOUT=120"),
	}
	t.Cleanup(func() { c.down(t) })
	begin := time.Now()
	out, err := c.script(t, "up")
	if err != nil {
		t.Fatalf("scripts/cluster.sh up: %v\n%s", err, out)
	}
	t.Logf("cluster.sh up took %v", time.Since(begin).Round(100*time.Millisecond))
	if !strings.Contains(out, `curl -sS -d '{"s":"foo"}' http://127.0.0.1:8080/stringsvc/uppercase`) {
		t.Fatalf("cluster.sh up did not print the curl lines:\n%s", out)
	}
	for _, addr := range nodeAddrs {
		c.nomad = append(c.nomad, &nomadAgent{addr: "http://" + addr + ":4646"})
		c.consul = append(c.consul, connectConsulAt(t, addr+":8500"))
		c.gateways = append(c.gateways, &gateway{url: "http://" + addr + ":8080"})
	}
	return c
}

// script runs scripts/cluster.sh with args and returns its combined output.
func (c *threeNodes) script(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "scripts", "cluster.sh"), args...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// down runs `cluster.sh down` and checks that it left nothing: no Nomad process, no interface
// but lo, no state file or run dir, none of the cgroups the nodes used.
func (c *threeNodes) down(t *testing.T) {
	if t.Failed() {
		c.diagnose(t)
	}
	if out, err := c.script(t, "down"); err != nil {
		t.Errorf("scripts/cluster.sh down: %v\n%s", err, out)
	}
	if left := liveProcessesOf(bins.nomad); len(left) > 0 {
		t.Errorf("Nomad processes still running after down: %v", left)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagLoopback == 0 {
			t.Errorf("interface %s is left after down", iface.Name)
		}
	}
	if entries, _ := os.ReadDir(c.stateDir); len(entries) > 0 {
		t.Errorf("left in the state and temp dir after down: %v", entries)
	}
	for _, dir := range c.cgroups {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s is left after down", dir)
		}
	}
}

// liveProcessesOf returns the PIDs of the running processes of the executable exe (a zombie has
// no executable any more).
func liveProcessesOf(exe string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if path, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && path == exe {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// diagnose logs what Nomad says about the cluster, for a failed test.
func (c *threeNodes) diagnose(t *testing.T) {
	if len(c.nomad) == 0 {
		return // up failed: its output says why
	}
	for _, args := range [][]string{
		{"server", "members"}, {"node", "status"}, {"job", "status", "stringsvc"}, {"eval", "list"},
	} {
		out, err := c.anyNomad().cli(t, nil, args...)
		t.Logf("nomad %s (%v):\n%s", strings.Join(args, " "), err, out)
	}
}

// anyNomad returns the first node whose Nomad API answers (node 1, unless it was crashed).
func (c *threeNodes) anyNomad() *nomadAgent {
	var leader string
	for _, n := range c.nomad {
		if n.get("/v1/status/leader", &leader) == nil {
			return n
		}
	}
	return c.nomad[0]
}
