//go:build integration

package systemtest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// routeGrace is the gateway's -route-grace in these tests: how long a service's routes stay once
// Consul no longer lists it.
const routeGrace = 2 * time.Second

// A second and a third service appear and leave while the gateway runs under load: each is
// served at /<service>/... within a couple of seconds of registering, with no configuration;
// its routes answer 503 when its last instance dies, and 404 once it has left the catalog; and
// no request to stringsvc fails meanwhile.
func TestServicesAppearAndLeaveUnderLoad(t *testing.T) {
	c := startConsul(t)
	for range 3 {
		startStringsvc(t)
	}
	g := startGateway(t, "GATEWAY_ROUTE_GRACE="+routeGrace.String())
	c.waitPassing(t, 3, 15*time.Second)
	g.waitRoutes(t, 10, 10*time.Second)
	l := startLoad(g, 8, 25*time.Second)

	// wordsvc: the same binary under another name.
	begin := time.Now()
	word := startStringsvc(t, "STRINGSVC_SERVICE=wordsvc")
	g.waitAnswer(t, "/wordsvc/uppercase", `{"s":"word"}`, http.StatusOK, `{"v":"WORD"}`, 5*time.Second)
	t.Logf("/wordsvc/uppercase answered %v after its instance started", time.Since(begin).Round(time.Millisecond))
	g.waitAnswer(t, "/wordsvc/count", `{"s":"word"}`, http.StatusOK, `{"v":4}`, time.Second)

	// lettersvc: two instances, both get traffic.
	letters := []*instance{startStringsvc(t, "STRINGSVC_SERVICE=lettersvc"), startStringsvc(t, "STRINGSVC_SERVICE=lettersvc")}
	g.waitAnswer(t, "/lettersvc/uppercase", `{"s":"abc"}`, http.StatusOK, `{"v":"ABC"}`, 5*time.Second)
	testkit.Eventually(t, 5*time.Second, "both lettersvc instances get traffic", func() bool {
		g.post(t, "/lettersvc/count", `{"s":"abc"}`)
		return letters[0].served(t) > 0 && letters[1].served(t) > 0
	})
	if report := g.statusReport(t); !slices.Equal(report.services(), []string{"lettersvc", "stringsvc", "wordsvc"}) {
		t.Fatalf("status lists %v, want the three services", report.services())
	}

	// Every lettersvc instance dies: Consul still lists the service (critical), so its routes
	// stay and answer 503 at once (no instance took the request).
	for _, in := range letters {
		in.proc.signal(t, syscall.SIGKILL)
	}
	g.waitAnswer(t, "/lettersvc/uppercase", `{"s":"abc"}`, http.StatusServiceUnavailable, "", 5*time.Second)

	// wordsvc stops: it deregisters, Consul drops the service, and after the grace its routes go.
	word.proc.signal(t, syscall.SIGTERM)
	left := time.Now()
	g.waitAnswer(t, "/wordsvc/uppercase", `{"s":"word"}`, http.StatusNotFound, `{"err":"no route for /wordsvc/uppercase"}`, routeGrace+drain+5*time.Second)
	t.Logf("/wordsvc/uppercase answered 404 %v after its last instance was told to stop", time.Since(left).Round(time.Millisecond))
	g.proc.waitLogEntry(t, "route removed", time.Second)
	if report := g.statusReport(t); !slices.Equal(report.services(), []string{"lettersvc", "stringsvc"}) {
		t.Fatalf("status lists %v, want lettersvc (still in the catalog) and stringsvc", report.services())
	}

	requireNoFailures(t, l.wait(t)) // stringsvc's load, meanwhile
}

// A routes file adds routes for services that do not declare them; SIGHUP rereads it, and a bad
// file is refused (the routes stay) on reload, and stops the gateway at start with one line.
func TestRoutesFileIsMergedAndReloadedOnHangup(t *testing.T) {
	c := startConsul(t)
	startStringsvc(t)
	c.waitPassing(t, 1, 15*time.Second)
	file := filepath.Join(t.TempDir(), "routes.hcl")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`route "POST /legacy/shout" {
  service = "stringsvc"
  path    = "/uppercase"
}`)
	g := startGatewayWith(t, nil, "-routes-file", file)
	g.waitAnswer(t, "/legacy/shout", `{"s":"hey"}`, http.StatusOK, `{"v":"HEY"}`, 10*time.Second)
	g.waitAnswer(t, "/stringsvc/count", `{"s":"hey"}`, http.StatusOK, `{"v":3}`, time.Second) // merged with the declared ones

	write(`route "POST /legacy/shout" {
  service = "stringsvc"
  path    = "/uppercase"
}
route "POST /legacy/len" {
  service    = "stringsvc"
  path       = "/count"
  idempotent = true
}`)
	g.proc.signal(t, syscall.SIGHUP)
	g.waitAnswer(t, "/legacy/len", `{"s":"hey"}`, http.StatusOK, `{"v":3}`, 5*time.Second)
	g.proc.waitLogEntry(t, "routes file reloaded", time.Second)

	write(`route "POST /legacy/len" {
  service = "stringsvc"
  retries = 2
}`)
	g.proc.signal(t, syscall.SIGHUP)
	refused := g.proc.waitLogEntry(t, "routes file refused; the routes stay as they were", 5*time.Second)
	if err, _ := refused["err"].(string); !strings.Contains(err, "retries") || !strings.Contains(err, file) {
		t.Errorf("refusal says %q, want the file and the unknown argument named", err)
	}
	for _, path := range []string{"/legacy/shout", "/legacy/len"} {
		if status, answer := g.post(t, path, `{"s":"hey"}`); status != http.StatusOK {
			t.Errorf("%s after a refused reload: %d %s, want 200", path, status, answer)
		}
	}
	if !g.proc.running() {
		t.Fatal("the gateway stopped on a bad routes file at reload")
	}

	bad := startProcess(t, "gateway with a bad routes file", bins.gateway, []string{"CONSUL_HTTP_ADDR=" + consulAddr},
		"-listen", freeAddr(t), "-routes-file", file)
	if code := bad.waitExit(t, 10*time.Second); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if out := bad.output(); len(out) != 1 || !strings.Contains(out[0], file) {
		t.Fatalf("output %q, want one line naming the file", out)
	}
}

// waitAnswer polls path until the gateway answers status (and body, unless empty).
func (g *gateway) waitAnswer(t *testing.T, path, body string, status int, want string, timeout time.Duration) {
	t.Helper()
	var got int
	var answer string
	testkit.Eventually(t, timeout, "POST "+path+" answers "+http.StatusText(status), func() bool {
		got, answer = g.post(t, path, body)
		return got == status && (want == "" || answer == want)
	})
}

// statusDoc is what these tests read of the gateway's /status.
type statusDoc struct {
	Services []struct {
		Name string `json:"name"`
	} `json:"services"`
}

func (d statusDoc) services() []string {
	var names []string
	for _, s := range d.Services {
		names = append(names, s.Name)
	}
	return names
}

func (g *gateway) statusReport(t *testing.T) statusDoc {
	t.Helper()
	resp, err := http.Get(g.url + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc statusDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}
