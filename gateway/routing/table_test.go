package routing

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// recordingBackend notes what the table opens, closes and publishes.
type recordingBackend struct {
	events    []string
	published []string
}

// recordedRoute is what recordingBackend opens: closing it is noted too.
type recordedRoute struct {
	b    *recordingBackend
	spec Spec
}

func (r recordedRoute) Close() {
	r.b.events = append(r.b.events, "close "+r.spec.Key()+" → "+r.spec.Service+r.spec.Upstream)
}

func (b *recordingBackend) Open(s Spec) Opened {
	b.events = append(b.events, "open "+s.Key()+" → "+s.Service+s.Upstream)
	return recordedRoute{b, s}
}

func (b *recordingBackend) Publish(live []Live) {
	b.published = b.published[:0]
	for _, l := range live {
		b.published = append(b.published, l.Spec.Key())
	}
	b.events = append(b.events, "publish")
}

// take returns the events since the last take, without the publications.
func (b *recordingBackend) take() []string {
	var e []string
	for _, ev := range b.events {
		if ev != "publish" {
			e = append(e, ev)
		}
	}
	b.events = nil
	return e
}

var defaults = Defaults{Attempts: 3, TryTimeout: 250 * time.Millisecond, Budget: time.Second, Hedge: true, BodyLimit: 1 << 20}

func newTestTable(t *testing.T) (*Table, *recordingBackend) {
	t.Helper()
	b := &recordingBackend{}
	return NewTable(b, defaults, hclog.NewNullLogger()), b
}

func TestDeclaredRoutesComeAndGoWithTheCatalog(t *testing.T) {
	table, b := newTestTable(t)
	table.SetCatalog(map[string][]string{"stringsvc": {"route=POST /uppercase idempotent", "route=POST /count idempotent", "v2"}})
	if got := b.take(); !slices.Equal(got, []string{"open POST /stringsvc/count → stringsvc/count", "open POST /stringsvc/uppercase → stringsvc/uppercase"}) {
		t.Fatalf("events %v", got)
	}
	table.SetCatalog(map[string][]string{
		"stringsvc": {"route=POST /uppercase idempotent", "route=POST /count idempotent"},
		"wordsvc":   {"route=POST /uppercase idempotent"},
	})
	if got := b.take(); !slices.Equal(got, []string{"open POST /wordsvc/uppercase → wordsvc/uppercase"}) {
		t.Fatalf("adding a service: events %v, want only its route opened", got)
	}
	table.SetCatalog(map[string][]string{"stringsvc": {"route=POST /uppercase idempotent"}})
	if got := b.take(); !slices.Equal(got, []string{"close POST /stringsvc/count → stringsvc/count", "close POST /wordsvc/uppercase → wordsvc/uppercase"}) {
		t.Fatalf("removing: events %v", got)
	}
	if !slices.Equal(b.published, []string{"POST /stringsvc/uppercase"}) {
		t.Fatalf("published %v", b.published)
	}
}

func TestAChangedPolicyReopensTheRoute(t *testing.T) {
	table, b := newTestTable(t)
	table.SetCatalog(map[string][]string{"s": {"route=POST /a"}})
	table.SetCatalog(map[string][]string{"s": {"route=POST /a attempts=1"}})
	if got := b.events; !slices.Equal(got, []string{"open POST /s/a → s/a", "publish", "open POST /s/a → s/a", "publish", "close POST /s/a → s/a"}) {
		t.Fatalf("events %v, want the new route published before the old one closes", got)
	}
	if p := table.Snapshot().Routes[0].Policy; p.Attempts != 1 || p.Idempotent || p.Hedge {
		t.Fatalf("policy %+v, want 1 attempt, not idempotent (POST), so never hedged", p)
	}
}

func TestTheFirstClaimStaysAndTheConflictIsListed(t *testing.T) {
	table, b := newTestTable(t)
	table.SetCatalog(map[string][]string{"wordsvc": {"route=POST /count"}})
	// A file route claiming the declared route's public path comes second: it is refused.
	table.SetFile([]Spec{{Method: "POST", Path: "/wordsvc/count", Service: "legacy", Upstream: "/c", Source: "routes.hcl"},
		{Method: "GET", Path: "/legacy/ping", Service: "legacy", Upstream: "/ping", Source: "routes.hcl"}})
	if got := b.take(); !slices.Equal(got, []string{"open POST /wordsvc/count → wordsvc/count", "open GET /legacy/ping → legacy/ping"}) {
		t.Fatalf("events %v", got)
	}
	snap := table.Snapshot()
	if len(snap.Conflicts) != 1 || snap.Conflicts[0].Refused.Service != "legacy" || snap.Conflicts[0].Kept.Service != "wordsvc" {
		t.Fatalf("conflicts %+v, want legacy's claim refused", snap.Conflicts)
	}
	// The first claim leaves: the waiting one takes the path.
	table.SetCatalog(map[string][]string{})
	if got := b.take(); !slices.Equal(got, []string{"open POST /wordsvc/count → legacy/c", "close POST /wordsvc/count → wordsvc/count"}) {
		t.Fatalf("events %v", got)
	}
	if snap := table.Snapshot(); len(snap.Conflicts) != 0 {
		t.Fatalf("conflicts %+v after the first claim left", snap.Conflicts)
	}
	// It comes back: now it is second, and refused.
	table.SetCatalog(map[string][]string{"wordsvc": {"route=POST /count"}})
	if got := b.take(); len(got) != 0 || table.Snapshot().Conflicts[0].Refused.Service != "wordsvc" {
		t.Fatalf("events %v, conflicts %+v: want the live route kept", got, table.Snapshot().Conflicts)
	}
}

func TestBadTagsAreListedAndTheRestServed(t *testing.T) {
	table, b := newTestTable(t)
	table.SetCatalog(map[string][]string{"s": {"route=POST /ok", "route=POST nope", "route=POST /x attempts=many"}})
	if got := b.take(); !slices.Equal(got, []string{"open POST /s/ok → s/ok"}) {
		t.Fatalf("events %v", got)
	}
	if inv := table.Snapshot().Invalid; len(inv) != 2 || !strings.Contains(inv[0].Err, "does not start with /") {
		t.Fatalf("invalid %+v", inv)
	}
}

func TestDeclaredOptionsOverrideTheDefaults(t *testing.T) {
	table, _ := newTestTable(t)
	table.SetCatalog(map[string][]string{"s": {"route=GET /a", "route=PUT /b hedge=false try-timeout=1s budget=500ms body-limit=2MiB"}})
	routes := table.Snapshot().Routes
	a, b := routes[0].Policy, routes[1].Policy
	if !a.Idempotent || !a.Hedge || a.Attempts != 3 || a.TryTimeout != 250*time.Millisecond || a.BodyLimit != 1<<20 {
		t.Errorf("GET /a: %+v, want the defaults, idempotent by its method", a)
	}
	if !b.Idempotent || b.Hedge || b.TryTimeout != time.Second || b.Budget != time.Second || b.BodyLimit != 1<<20 {
		t.Errorf("PUT /b: %+v, want no hedge, 1s tries, a budget raised to one try, the body limit capped at the gateway's", b)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.hcl", `
route "POST /legacy/echo" {
  service     = "echosvc"
  path        = "/echo"
  idempotent  = false
  attempts    = 2
  try_timeout = "200ms"
  budget      = "1s"
  body_limit  = "64KiB"
}
route "GET /legacy/ping" {
  service = "echosvc"
}
`)
	specs, err := LoadFile(good, defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := []Spec{
		{Method: "POST", Path: "/legacy/echo", Service: "echosvc", Upstream: "/echo", Source: good,
			Policy: Policy{Attempts: 2, TryTimeout: 200 * time.Millisecond, Budget: time.Second, BodyLimit: 64 << 10}},
		{Method: "GET", Path: "/legacy/ping", Service: "echosvc", Upstream: "/legacy/ping", Source: good,
			Policy: Policy{Idempotent: true, Attempts: 3, TryTimeout: 250 * time.Millisecond, Budget: time.Second, Hedge: true, BodyLimit: 1 << 20}},
	}
	if !slices.Equal(specs, want) {
		t.Fatalf("got %+v\nwant %+v", specs, want)
	}
	for name, text := range map[string]string{
		"syntax.hcl":    `route "POST /a" {`,
		"unknown.hcl":   "route \"POST /a\" {\n service = \"s\"\n retries = 2\n}",
		"noservice.hcl": `route "POST /a" { path = "/b" }`,
		"label.hcl":     `route "/a" { service = "s" }`,
		"budget.hcl":    `route "POST /a" { service = "s" budget = "soon" }`,
		"twice.hcl":     "route \"POST /a\" { service = \"s\" }\nroute \"POST /a\" { service = \"t\" }",
	} {
		_, err := LoadFile(write(name, text), defaults)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q, want one line naming the file", name, err)
		}
		if want := map[string]string{"unknown.hcl": "retries", "twice.hcl": "twice", "noservice.hcl": "service"}[name]; err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q, want it to name %q", name, err, want)
		}
	}
}
