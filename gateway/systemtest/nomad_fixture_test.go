//go:build integration

package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

const nomadAddr = "http://127.0.0.1:4646"

// repoRoot is the repository, seen from this package's directory (where go test runs).
var repoRoot = filepath.Join("..", "..")

// nomadAgent is a real Nomad agent: a dev agent (server and client) on 127.0.0.1 that startNomad
// started, configured by scripts/nomad-config.sh's dev mode (its client
// state, allocation dirs and temporary files live in a directory of the test; its tasks in a
// cgroup of the test's own), or a node of scripts/cluster.sh (only addr is set).
type nomadAgent struct {
	addr    string // its HTTP API, http://host:port
	proc    *process
	dir     string
	cgroups []string // cgroup dirs that did not exist before the agent: removed after it
}

func startNomad(t *testing.T) *nomadAgent {
	t.Helper()
	// The tasks' cgroup parent is a name of this test's own; Nomad also uses "nomad" (the cgroup
	// v1 freezer) whatever the parent is.
	parent := fmt.Sprintf("gokit-nomad-e2e-%d", os.Getpid())
	n := &nomadAgent{addr: nomadAddr, dir: t.TempDir(), cgroups: absentCgroups(parent, "nomad")}
	config := filepath.Join(n.dir, "agent.hcl")
	render := exec.Command(filepath.Join(repoRoot, "scripts", "nomad-config.sh"), "dev", n.dir)
	render.Env = append(os.Environ(), "NOMAD_CGROUP_PARENT=/"+parent)
	hcl, err := render.Output()
	if err != nil {
		t.Fatalf("scripts/nomad-config.sh: %v", err)
	}
	if err := os.WriteFile(config, hcl, 0o600); err != nil {
		t.Fatal(err)
	}
	n.proc = startProcess(t, "nomad", bins.nomad, []string{"TMPDIR=" + n.dir},
		"agent", "-dev", "-config", config, "-log-level", "INFO")
	// Runs before startProcess's cleanup (LIFO): stop the jobs and the agent in order first.
	t.Cleanup(func() { n.stop(t) })

	testkit.Eventually(t, 30*time.Second, "the nomad node is ready with exec and raw_exec", func() bool {
		var nodes []struct {
			Status  string
			Drivers map[string]struct{ Healthy bool }
		}
		return n.get("/v1/nodes?resources=false", &nodes) == nil && len(nodes) == 1 &&
			nodes[0].Status == "ready" && nodes[0].Drivers["raw_exec"].Healthy && nodes[0].Drivers["exec"].Healthy
	})
	return n
}

// get decodes the JSON answer of a GET on Nomad's HTTP API into v.
func (n *nomadAgent) get(path string, v any) error {
	resp, err := http.Get(n.addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// cli runs the nomad command line against the agent, as a user would, and returns its output.
func (n *nomadAgent) cli(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.nomad, args...)
	cmd.Env = append(append(os.Environ(), "NOMAD_ADDR="+n.addr), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// allocation is what the tests read of a Nomad allocation.
type allocation struct {
	ID, NodeID, DesiredStatus, ClientStatus string
	JobVersion                              uint64
}

// running returns the job's allocations that Nomad wants running and that run.
func (n *nomadAgent) running(t *testing.T, job string) []allocation {
	t.Helper()
	running, err := n.tryRunning(job)
	if err != nil {
		t.Fatalf("allocations of %s: %v", job, err)
	}
	return running
}

// tryRunning is running for a cluster that may be electing a leader: it returns the error.
func (n *nomadAgent) tryRunning(job string) ([]allocation, error) {
	var allocs, running []allocation
	if err := n.get("/v1/job/"+job+"/allocations", &allocs); err != nil {
		return nil, err
	}
	for _, a := range allocs {
		if a.DesiredStatus == "run" && a.ClientStatus == "running" {
			running = append(running, a)
		}
	}
	return running, nil
}

// port returns the host port Nomad gave the allocation for a network port label.
func (n *nomadAgent) port(t *testing.T, allocID, label string) int {
	t.Helper()
	var alloc struct {
		AllocatedResources struct {
			Shared struct {
				Ports []struct {
					Label string
					Value int
				}
			}
		}
	}
	if err := n.get("/v1/allocation/"+allocID, &alloc); err != nil {
		t.Fatalf("allocation %s: %v", allocID, err)
	}
	for _, p := range alloc.AllocatedResources.Shared.Ports {
		if p.Label == label {
			return p.Value
		}
	}
	t.Fatalf("allocation %s has no port %q", allocID, label)
	return 0
}

// stop purges every job, waits (bounded) until their tasks are gone, then stops the agent and
// removes what it left: processes, mounts and cgroups, all by the identity this test gave them.
func (n *nomadAgent) stop(t *testing.T) {
	if !n.proc.running() {
		return
	}
	var jobs []struct{ ID string }
	if err := n.get("/v1/jobs", &jobs); err == nil {
		for _, j := range jobs {
			if out, err := n.cli(t, nil, "job", "stop", "-purge", "-detach", j.ID); err != nil {
				t.Logf("nomad job stop %s: %v\n%s", j.ID, err, out)
			}
		}
	}
	// An exec task is not below the agent: runc's double fork leaves it to PID 1 (the test binary,
	// in the PID namespace scripts/test.sh makes). Its cgroup, below /nomad, finds it.
	tasks := func() []int { return append(descendants(n.proc.cmd.Process.Pid), inCgroupsBelow("/nomad/")...) }
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) && len(taskProcesses(tasks())) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	if running := taskProcesses(tasks()); len(running) > 0 {
		t.Errorf("tasks still running 45s after the jobs were stopped: %v", running)
	}
	leftover := tasks() // Nomad's helpers (and any task still running) outlive the agent by design
	_ = n.proc.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-n.proc.exited:
	case <-time.After(30 * time.Second):
		// Every task has ended (checked above); what is left is Nomad's own shutdown. After an
		// allocation whose artifact download failed, Nomad 1.6's dev agent never finishes
		// "client: shutting down" (4 of 5 end-to-end runs here, 2026-12-03): not this project's to fix.
		t.Logf("nomad agent still running 30s after SIGINT (its tasks have all ended): SIGKILL")
		n.proc.kill()
	}
	for _, pid := range leftover {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountUnder(t, n.dir)
	for _, dir := range n.cgroups {
		removeCgroup(t, dir)
	}
}

// taskProcesses drops Nomad's own helper processes (the nomad binary re-executed as executor or
// logmon) from pids, leaving the tasks.
func taskProcesses(pids []int) []int {
	var tasks []int
	for _, pid := range pids {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe != bins.nomad {
			tasks = append(tasks, pid)
		}
	}
	return tasks
}

// inCgroupsBelow returns the PIDs of the processes in a cgroup whose path starts with prefix, in
// any hierarchy.
func inCgroupsBelow(prefix string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		cgroups, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(cgroups), "\n") {
			// hierarchy-ID:controllers:path
			if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && strings.HasPrefix(parts[2], prefix) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// descendants returns the PIDs of every process below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var child, parent int
		if _, err := fmt.Sscan(e.Name(), &child); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name (field 2) is in parentheses and may hold spaces: parse after it.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		if _, err := fmt.Sscanf(rest, " %*c %d", &parent); err == nil {
			children[parent] = append(children[parent], child)
		}
	}
	var all []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		all = append(all, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return all
}

// unmountUnder detaches every mount below dir (Nomad mounts the tasks' secrets dirs), deepest
// first, so that the directory can be removed.
func unmountUnder(t *testing.T, dir string) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Errorf("reading mountinfo: %v", err)
		return
	}
	var points []string
	for _, line := range strings.Split(string(info), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		if err := syscall.Unmount(points[i], syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", points[i], err)
		}
	}
}

// absentCgroups returns the cgroup dirs with these names, in every hierarchy (each cgroup v1
// controller, or the v2 root), that do not exist yet.
func absentCgroups(names ...string) []string {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	hierarchies = append(hierarchies, "/sys/fs/cgroup")
	var absent []string
	for _, h := range hierarchies {
		if _, err := os.Stat(filepath.Join(h, "cgroup.procs")); err != nil {
			continue // not a cgroup hierarchy
		}
		for _, name := range names {
			if _, err := os.Stat(filepath.Join(h, name)); os.IsNotExist(err) {
				absent = append(absent, filepath.Join(h, name))
			}
		}
	}
	return absent
}

// removeCgroup removes the cgroup dir root, if it exists, children first.
func removeCgroup(t *testing.T, root string) {
	var dirs []string
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := syscall.Rmdir(dirs[i]); err != nil {
			t.Errorf("removing cgroup %s: %v", dirs[i], err)
		}
	}
}
