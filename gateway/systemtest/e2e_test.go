//go:build integration

package systemtest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// TestNomadEndToEnd deploys every job of nomad/ on a real Nomad agent with scripts/deploy.sh —
// Consul itself, three stringsvc allocations, the gateway and Prometheus — and then operates it
// as a user would: requests through the gateway; monitoring (what Prometheus finds and scrapes,
// promtool on what it runs, the dashboard's queries, a breaker alert from pending to firing to
// resolved); under a steady stream of requests (none may fail) an
// allocation stopped, a good release deployed through its canary, and two bad ones (one that never
// passes its check, one whose download does not match its checksum) refused and reverted; and the
// job stopped (every instance leaves Consul).
// The steps share one deployment and run in order; a failed step ends the test.
func TestNomadEndToEnd(t *testing.T) {
	nomad := startNomad(t)
	e := &endToEnd{nomad: nomad, store: serveReleases(t), gateway: &gateway{url: "http://127.0.0.1:8080"},
		prometheus: &prometheusAPI{url: prometheusURL}}
	runSteps(t, []step{
		{"deploy", e.deploy},
		{"requests through the gateway", e.requests},
		{"each allocation registered itself", e.registered},
		{"all three instances get traffic", e.spread},
		{"prometheus scrapes every instance, the gateway and nomad", e.monitoringScraped},
		{"what the job rendered and both binaries' metrics pass promtool", e.monitoringLinted},
		{"the dashboard's queries and the breaker states return data", e.monitoringQueried},
		{"the breaker alert goes pending, fires and resolves", e.monitoringBreakerAlert},
		{"alloc stop under load", e.allocStop},
		{"canary promoted under load", e.canaryPromoted},
		{"a release that never passes is reverted under load", e.neverPassesReverted},
		{"a checksum mismatch is refused and reverted under load", e.checksumMismatchReverted},
		{"job stop deregisters every instance", e.jobStop},
	})
}

// step is one subtest of a test whose subtests share state and run in order.
type step struct {
	name string
	run  func(*testing.T)
}

// runSteps runs the steps in order as subtests and stops at the first that fails.
func runSteps(t *testing.T, steps []step) {
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return
		}
	}
}

type endToEnd struct {
	nomad      *nomadAgent
	store      *releaseStore
	vars       []string // job variables every release of the steps gets besides the store's
	consul     *consulAgent
	gateway    *gateway
	prometheus *prometheusAPI
}

// jobEnv is what a user exports before running the jobs by hand from another directory than the
// repository's root: where the nodes find Consul and Prometheus, and where prometheus.nomad finds
// its configuration.
func jobEnv() []string {
	return []string{"NOMAD_VAR_consul_binary=" + bins.consul, "NOMAD_VAR_prometheus_binary=" + bins.prometheus,
		"NOMAD_VAR_config_dir=" + prometheusConfigDir()}
}

// prometheusConfigDir is the absolute path of nomad/prometheus/.
func prometheusConfigDir() string {
	dir, err := filepath.Abs(filepath.Join(repoRoot, "nomad", "prometheus"))
	if err != nil {
		panic(err)
	}
	return dir
}

func (e *endToEnd) deploy(t *testing.T) {
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "deploy.sh"))
	// deploy.sh publishes bin/ to the store and passes the release's URL and checksums itself.
	cmd.Env = append(os.Environ(), append(append(jobEnv(), e.store.env()...), "NOMAD_ADDR="+nomadAddr,
		"BIN_DIR="+filepath.Dir(bins.stringsvc),
		// deploy.sh finds nomad on PATH, as a user's shell would.
		"PATH="+filepath.Dir(bins.nomad)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DEPLOY_TIMEOUT=120", "NOMAD_VAR_scrape_interval="+scrapeInterval)...)
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/deploy.sh: %v\n%s", err, out)
	}
	t.Logf("deploy.sh took %v", time.Since(begin).Round(100*time.Millisecond))
	if !strings.Contains(string(out), `curl -sS -d '{"s":"foo"}' http://127.0.0.1:8080/stringsvc/uppercase`) {
		t.Fatalf("deploy.sh did not print the curl lines:\n%s", out)
	}
	e.consul = connectConsul(t)
	for _, job := range []string{"consul", "stringsvc", "gateway", "prometheus"} {
		if got := len(e.nomad.running(t, job)); got == 0 {
			t.Errorf("job %s: no running allocation after deploy.sh", job)
		}
	}
}

func (e *endToEnd) requests(t *testing.T) {
	for _, tc := range []struct{ path, body, answer string }{
		{"/stringsvc/uppercase", `{"s":"foo"}`, `{"v":"FOO"}`},
		{"/stringsvc/count", `{"s":"foo"}`, `{"v":3}`},
	} {
		if status, answer := e.gateway.post(t, tc.path, tc.body); status != http.StatusOK || answer != tc.answer {
			t.Errorf("POST %s: got %d %s, want 200 %s", tc.path, status, answer, tc.answer)
		}
	}
}

// registered checks that the passing instances in Consul are exactly the running allocations,
// each under its allocation's ID and at the dynamic port Nomad gave it.
func (e *endToEnd) registered(t *testing.T) {
	e.consul.waitPassing(t, 3, 30*time.Second)
	want := map[string]string{} // service ID -> address
	for _, a := range e.nomad.running(t, "stringsvc") {
		want[instanceID(a)] = fmt.Sprintf("127.0.0.1:%d", e.nomad.port(t, a.ID, "http"))
	}
	got := map[string]string{}
	for _, in := range e.consul.passingInstances(t) {
		got[in.id] = in.addr
	}
	if len(want) != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("passing in consul: %v\nrunning allocations: %v", got, want)
	}
}

func (e *endToEnd) spread(t *testing.T) {
	instances := e.consul.passingInstances(t)
	before := make([]int, len(instances))
	for i, in := range instances {
		before[i] = in.served(t)
	}
	const requests = 90
	for range requests {
		if status, answer := e.gateway.post(t, "/stringsvc/uppercase", `{"s":"spread"}`); status != http.StatusOK {
			t.Fatalf("%d %s", status, answer)
		}
	}
	for i, in := range instances {
		got := in.served(t) - before[i]
		t.Logf("%s served %d of %d", in.id, got, requests)
		if got == 0 {
			t.Errorf("%s got no traffic", in.id)
		}
	}
}

func (e *endToEnd) allocStop(t *testing.T) {
	allocs := e.nomad.running(t, "stringsvc")
	if len(allocs) != 3 {
		t.Fatalf("%d running stringsvc allocations, want 3", len(allocs))
	}
	stopped := allocs[0]
	l := startLoad(e.gateway, 16, 12*time.Second)
	time.Sleep(2 * time.Second) // let the stream run before the fault
	if out, err := e.nomad.cli(t, nil, "alloc", "stop", "-detach", stopped.ID); err != nil {
		t.Fatalf("nomad alloc stop: %v\n%s", err, out)
	}
	requireNoFailures(t, l.wait(t))

	testkit.Eventually(t, 60*time.Second, "a replacement allocation passes in consul and the stopped one is gone", func() bool {
		ids := e.consul.instanceIDs(t, false)
		passing := e.consul.passing(t)
		return len(passing) == 3 && len(ids) == 3 && !slices.Contains(ids, instanceID(stopped))
	})
	var replacement *instance
	for _, in := range e.consul.passingInstances(t) {
		if !slices.ContainsFunc(allocs, func(a allocation) bool { return instanceID(a) == in.id }) {
			replacement = in
		}
	}
	if replacement == nil {
		t.Fatalf("no new instance among %v", e.consul.passing(t))
	}
	testkit.Eventually(t, 10*time.Second, "the replacement serves requests", func() bool {
		e.gateway.post(t, "/stringsvc/uppercase", `{"s":"replacement"}`)
		return replacement.served(t) > 0
	})
}

func (e *endToEnd) jobStop(t *testing.T) {
	if out, err := e.nomad.cli(t, nil, "job", "stop", "stringsvc"); err != nil {
		t.Fatalf("nomad job stop: %v\n%s", err, out)
	}
	testkit.Eventually(t, 60*time.Second, "no stringsvc instance is left in consul", func() bool {
		return len(e.consul.instanceIDs(t, false)) == 0
	})
	testkit.Eventually(t, 30*time.Second, "every stringsvc allocation has finished", func() bool {
		return len(e.nomad.running(t, "stringsvc")) == 0
	})
}

// instanceID is the Consul service ID stringsvc registers under in the allocation.
func instanceID(a allocation) string { return "stringsvc-" + a.ID }

// TestNomadJobsInAnyOrder runs the job files one by one with plain `nomad job run`, in the worst
// order — Prometheus, stringsvc and the gateway before the Consul they need — and checks that the
// system converges by itself: the instances register once Consul is up, the gateway routes to
// them, and Prometheus scrapes them and the gateway.
//
// It runs them with raw_exec (NOMAD_VAR_driver), as dev.sh does for a user who is not root: the
// exec driver has the other tests.
func TestNomadJobsInAnyOrder(t *testing.T) {
	nomad := startNomad(t)
	env := append(append(jobEnv(), serveReleases(t).publish(t)...), "NOMAD_VAR_driver=raw_exec",
		"NOMAD_VAR_scrape_interval="+scrapeInterval)
	for _, job := range []string{"prometheus", "stringsvc", "gateway", "consul"} {
		file := filepath.Join(repoRoot, "nomad", job+".nomad")
		args := []string{"job", "run", file}
		if job == "prometheus" {
			// Its task starts once its targets' templates have read Consul's catalog: `nomad job
			// run` would wait for it, and so for Consul, which comes last.
			args = []string{"job", "run", "-detach", file}
		}
		if out, err := nomad.cli(t, env, args...); err != nil {
			t.Fatalf("nomad job run %s: %v\n%s", file, err, out)
		}
	}
	consul := connectConsul(t)
	begin := time.Now()
	consul.waitPassing(t, 3, 90*time.Second)
	g := &gateway{url: "http://127.0.0.1:8080"}
	g.waitRoutes(t, 10, 30*time.Second)
	t.Logf("from the last `nomad job run` to 10 routed requests in a row: %v", time.Since(begin).Round(100*time.Millisecond))
	prometheus := &prometheusAPI{url: prometheusURL}
	testkit.Eventually(t, 60*time.Second, "Prometheus, started before Consul, scrapes the three instances and the gateway", func() bool {
		targets, err := prometheus.targets()
		up, _ := upByJob(targets)
		return err == nil && up["stringsvc"] == 3 && up["gateway"] == 1
	})
	t.Logf("from the last `nomad job run` to every instance and the gateway scraped: %v", time.Since(begin).Round(100*time.Millisecond))
}
