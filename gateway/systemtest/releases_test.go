//go:build integration

package systemtest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// deployment is the part of Nomad's latest deployment of a job that the release steps check.
type deployment struct {
	ID, Status, StatusDescription string
	JobVersion                    uint64
	TaskGroups                    map[string]struct {
		Promoted                       bool
		DesiredCanaries, HealthyAllocs int
		PlacedCanaries                 []string
		UnhealthyAllocs, PlacedAllocs  int
	}
}

func (e *endToEnd) latestDeployment(t *testing.T) deployment {
	t.Helper()
	var d deployment
	if err := e.nomad.get("/v1/job/stringsvc/deployment", &d); err != nil {
		t.Fatalf("latest deployment of stringsvc: %v", err)
	}
	return d
}

// deploymentOf returns the deployment of the given version of stringsvc (ok false if none yet).
func (e *endToEnd) deploymentOf(t *testing.T, version uint64) (d deployment, ok bool) {
	t.Helper()
	var all []deployment
	if err := e.nomad.get("/v1/job/stringsvc/deployments", &all); err != nil {
		t.Fatalf("deployments of stringsvc: %v", err)
	}
	for _, d := range all {
		if d.JobVersion == version {
			return d, true
		}
	}
	return deployment{}, false
}

// jobVersion returns the version of stringsvc's job that Nomad has now.
func (e *endToEnd) jobVersion(t *testing.T) uint64 {
	t.Helper()
	var job struct{ Version uint64 }
	if err := e.nomad.get("/v1/job/stringsvc", &job); err != nil {
		t.Fatalf("job stringsvc: %v", err)
	}
	return job.Version
}

// canaryPromoted deploys a new version of the same binaries (`nomad job run` follows the
// deployment): one canary starts beside the three allocations, passes its check, is promoted by
// itself, and the rest are replaced one at a time.
func (e *endToEnd) canaryPromoted(t *testing.T) {
	old := e.nomad.running(t, "stringsvc")
	l := startLoad(e.gateway, 16, 4*time.Minute)
	time.Sleep(2 * time.Second) // let the stream run before the deploy
	begin := time.Now()
	out, err := e.nomad.cli(t, append(e.store.publish(t), e.vars...), "job", "run", "-var", "release=2", stringsvcJob())
	if err != nil {
		l.stop()
		l.wait(t)
		t.Fatalf("nomad job run: %v\n%s", err, out)
	}
	t.Logf("canary deploy took %v", time.Since(begin).Round(100*time.Millisecond))
	time.Sleep(2 * time.Second) // and let the stream run on the new allocations
	l.stop()
	requireNoFailures(t, l.wait(t))

	d := e.latestDeployment(t)
	group := d.TaskGroups["stringsvc"]
	if d.Status != "successful" || d.JobVersion == old[0].JobVersion || group.DesiredCanaries != 1 ||
		len(group.PlacedCanaries) != 1 || !group.Promoted {
		t.Fatalf("latest deployment: %+v, want a successful one of a new version with 1 promoted canary\n%s", d, out)
	}
	now := e.nomad.running(t, "stringsvc")
	for _, a := range now {
		if slices.Contains(old, a) || a.JobVersion != d.JobVersion {
			t.Errorf("allocation %s (version %d) is not of the new version %d", a.ID, a.JobVersion, d.JobVersion)
		}
	}
	e.consul.waitPassing(t, 3, 30*time.Second)
	for _, in := range e.consul.passingInstances(t) {
		if !slices.ContainsFunc(now, func(a allocation) bool { return instanceID(a) == in.id }) {
			t.Errorf("passing instance %s is not one of the new allocations", in.id)
		}
	}
}

// neverPassesReverted deploys a release whose stringsvc runs but never answers (it sleeps): its
// canary runs, which task_states health would call healthy, but never passes its check; the
// deployment fails at its progress deadline and is reverted, and the three old allocations serve
// throughout.
func (e *endToEnd) neverPassesReverted(t *testing.T) {
	bad := e.store.publishWithStringsvc(t, []byte("#!/bin/sh\nexec sleep 600\n"))
	canaries := e.badRelease(t, bad, "never-passes")
	for _, id := range canaries {
		var alloc struct {
			DeploymentStatus struct{ Healthy *bool }
			TaskStates       map[string]struct{ State string }
		}
		if err := e.nomad.get("/v1/allocation/"+id, &alloc); err != nil {
			t.Fatal(err)
		}
		if h := alloc.DeploymentStatus.Healthy; h == nil || *h {
			t.Errorf("canary %s: deployment health %v, want unhealthy", id, h)
		}
	}
}

// checksumMismatchReverted deploys the current release with a stringsvc checksum that is not its
// binary's (the gateway's): Nomad refuses the download, so the canary never runs; its task events
// say the download failed, and the client's log says why (Nomad 1.6 leaves "Checksums did not
// match" out of the event); the deployment is reverted as above.
func (e *endToEnd) checksumMismatchReverted(t *testing.T) {
	vars := e.store.publish(t)
	var gatewaySum, url string
	for _, v := range vars {
		if sum, ok := strings.CutPrefix(v, "NOMAD_VAR_gateway_sha256="); ok {
			gatewaySum = sum
		}
		if u, ok := strings.CutPrefix(v, "NOMAD_VAR_artifact_url="); ok {
			url = u + "/stringsvc"
		}
	}
	vars = append(vars, "NOMAD_VAR_stringsvc_sha256="+gatewaySum) // the last one wins
	canaries := e.badRelease(t, vars, "bad-checksum")
	var events []string
	for _, id := range canaries {
		var alloc struct {
			TaskStates map[string]struct {
				Events []struct{ Type, DisplayMessage string }
			}
		}
		if err := e.nomad.get("/v1/allocation/"+id, &alloc); err != nil {
			t.Fatal(err)
		}
		for _, ev := range alloc.TaskStates["stringsvc"].Events {
			events = append(events, ev.Type+": "+ev.DisplayMessage)
			if ev.Type == "Started" {
				t.Errorf("canary %s started a binary that does not match its checksum", id)
			}
		}
		if !slices.ContainsFunc(e.nomad.proc.output(), func(line string) bool {
			return strings.Contains(line, "Checksums did not match") && strings.Contains(line, id)
		}) {
			t.Errorf("the Nomad client logged no checksum mismatch for canary %s", id)
		}
	}
	if !slices.ContainsFunc(events, func(ev string) bool {
		return strings.HasPrefix(ev, "Failed Artifact Download: ") && strings.Contains(ev, url)
	}) {
		t.Errorf("no canary has a Failed Artifact Download event for %s; events:\n%s", url, strings.Join(events, "\n"))
	}
}

// badRelease runs a release that must not go live under a steady stream of requests, with
// `nomad job run -detach`, and checks what every bad release must do: the deployment fails and is
// rolled back, none of its allocations ever appears in Consul, the three old allocations are never
// stopped and pass in Consul at the end, and no request fails. It returns the release's canaries.
func (e *endToEnd) badRelease(t *testing.T, vars []string, label string) []string {
	t.Helper()
	old := e.nomad.running(t, "stringsvc")
	l := startLoad(e.gateway, 16, 4*time.Minute)
	time.Sleep(2 * time.Second)
	begin := time.Now()
	if out, err := e.nomad.cli(t, vars, "job", "run", "-detach", "-var", "release="+label, stringsvcJob()); err != nil {
		l.stop()
		l.wait(t)
		t.Fatalf("nomad job run: %v\n%s", err, out)
	}
	version := e.jobVersion(t) // the bad release's
	if version <= old[0].JobVersion {
		t.Fatalf("job version %d after nomad job run, want more than %d", version, old[0].JobVersion)
	}
	var d deployment
	var leaked []string // the release's allocations that Consul listed
	testkit.Eventually(t, 3*time.Minute, "the deployment of "+label+" fails", func() bool {
		var ok bool
		if d, ok = e.deploymentOf(t, version); !ok {
			return false
		}
		for _, id := range d.TaskGroups["stringsvc"].PlacedCanaries {
			if slices.Contains(e.consul.instanceIDs(t, false), "stringsvc-"+id) && !slices.Contains(leaked, id) {
				leaked = append(leaked, id)
			}
		}
		return d.Status == "failed"
	})
	t.Logf("deployment of %s failed after %v: %s", label, time.Since(begin).Round(100*time.Millisecond), d.StatusDescription)
	if !strings.Contains(d.StatusDescription, "rolling back") {
		t.Errorf("deployment %s: %q, want a roll back", d.ID, d.StatusDescription)
	}
	group := d.TaskGroups["stringsvc"]
	if group.Promoted || len(group.PlacedCanaries) == 0 {
		t.Errorf("deployment %s: %+v, want canaries and no promotion", d.ID, group)
	}
	if len(leaked) > 0 {
		t.Errorf("allocations of %s registered in Consul: %v", label, leaked)
	}
	testkit.Eventually(t, 2*time.Minute, "the revert's deployment succeeds with the old allocations", func() bool {
		now, err := e.nomad.tryRunning("stringsvc")
		r := e.latestDeployment(t)
		return err == nil && r.JobVersion > d.JobVersion && r.Status == "successful" && sameIDs(now, old)
	})
	l.stop()
	requireNoFailures(t, l.wait(t))
	e.consul.waitPassing(t, 3, 30*time.Second)
	return group.PlacedCanaries
}

// sameIDs reports whether a and b are the same allocations (by ID, in any order).
func sameIDs(a, b []allocation) bool {
	ids := func(as []allocation) string {
		var s []string
		for _, a := range as {
			s = append(s, a.ID)
		}
		slices.Sort(s)
		return fmt.Sprint(s)
	}
	return ids(a) == ids(b)
}

func stringsvcJob() string { return filepath.Join(repoRoot, "nomad", "stringsvc.nomad") }
