package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// The backoff, and what Run and Deregister log and do against a fake agent (fakeAgent); the real
// Consul agent, with ACLs and TLS, is in the system tests (gateway/systemtest).

func TestKeeperNextBackoff(t *testing.T) {
	t.Parallel()
	k := &Keeper{resync: 2 * time.Second}

	var got []time.Duration
	wait := time.Duration(0)
	for range 8 {
		wait = k.next(wait, false)
		got = append(got, wait)
	}
	want := []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 2 * time.Second, 2 * time.Second, 2 * time.Second,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff sequence = %v, want %v", got, want)
		}
	}
}

func TestKeeperNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		resync     time.Duration
		prev       time.Duration
		registered bool
		want       time.Duration
	}{
		{name: "first failure", resync: 30 * time.Second, prev: 0, want: minRetry},
		{name: "doubles", resync: 30 * time.Second, prev: 100 * time.Millisecond, want: 200 * time.Millisecond},
		{name: "doubles odd value", resync: 30 * time.Second, prev: 300 * time.Millisecond, want: 600 * time.Millisecond},
		{name: "below min rises to min", resync: 30 * time.Second, prev: time.Millisecond, want: minRetry},
		{name: "capped at resync", resync: 30 * time.Second, prev: 20 * time.Second, want: 30 * time.Second},
		{name: "stays at resync", resync: 30 * time.Second, prev: 30 * time.Second, want: 30 * time.Second},
		{name: "after registered period then lost", resync: 30 * time.Second, prev: 30 * time.Second, want: 30 * time.Second},
		{name: "resync below min", resync: 50 * time.Millisecond, prev: 0, want: 50 * time.Millisecond},
		{name: "registered from zero", resync: 30 * time.Second, prev: 0, registered: true, want: 30 * time.Second},
		{name: "registered after backoff", resync: 30 * time.Second, prev: 400 * time.Millisecond, registered: true, want: 30 * time.Second},
		{name: "registered short resync", resync: 10 * time.Millisecond, prev: time.Second, registered: true, want: 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := &Keeper{resync: tt.resync}
			if got := k.next(tt.prev, tt.registered); got != tt.want {
				t.Errorf("next(%v, %v) with resync %v = %v, want %v", tt.prev, tt.registered, tt.resync, got, tt.want)
			}
		})
	}
}

// fakeAgent is the part of a Consul agent's HTTP API a Keeper uses. Like Consul, it answers a read
// of an unknown service with 404 before looking at the token. While refuse is set it answers
// everything else with that status and body. It counts the requests.
type fakeAgent struct {
	mu         sync.Mutex
	refuse     int
	body       string
	registered bool
	requests   int
}

func (a *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	switch {
	case r.Method == http.MethodGet && !a.registered:
		http.Error(w, "unknown service ID", http.StatusNotFound)
	case a.refuse != 0:
		http.Error(w, a.body, a.refuse)
	case r.URL.Path == "/v1/agent/service/register":
		a.registered = true
	case r.URL.Path == "/v1/agent/service/deregister/stringsvc-1":
		a.registered = false
	case r.Method == http.MethodGet:
		fmt.Fprint(w, `{"ID":"stringsvc-1","Service":"stringsvc"}`)
	default:
		http.NotFound(w, r)
	}
}

func (a *fakeAgent) set(status int, body string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refuse, a.body = status, body
}

func (a *fakeAgent) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

func newFakeKeeper(t *testing.T, resync time.Duration) (*Keeper, *fakeAgent, *testkit.Logs) {
	t.Helper()
	agent := &fakeAgent{}
	srv := httptest.NewServer(agent)
	t.Cleanup(srv.Close)
	client, err := api.NewClient(&api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := testkit.NewLogger(hclog.Info)
	reg := &api.AgentServiceRegistration{ID: "stringsvc-1", Name: "stringsvc", Address: "127.0.0.1", Port: 9000}
	return NewKeeper(client, reg, resync, logger), agent, logs
}

const (
	deniedMsg   = "consul refused the registration: the ACL token lacks service:write on stringsvc (set CONSUL_HTTP_TOKEN)"
	unknownMsg  = "consul refused the registration: it does not know the ACL token (set CONSUL_HTTP_TOKEN)"
	lostMsg     = "registration lost; registering again"
	cannotMsg   = "cannot register in consul; retrying"
	deniedByACL = `Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'service:write' on "stringsvc"`
)

func TestKeeperLogsEachFailureStreakOnceAndBacksOff(t *testing.T) {
	t.Parallel()
	k, agent, logs := newFakeKeeper(t, 400*time.Millisecond)
	agent.set(http.StatusForbidden, deniedByACL)
	t.Cleanup(k.Start().Stop)

	// A refused token: one clear line for the whole streak, and attempts spaced by the backoff
	// (after 0, 0.1, 0.3, 0.7, 1.1, 1.5 s: a read and a registration each).
	start := time.Now()
	testkit.Eventually(t, 5*time.Second, "four refused attempts", func() bool { return agent.count() >= 8 })
	time.Sleep(600 * time.Millisecond) // a measurement window
	if n, elapsed := agent.count(), time.Since(start); n > 2*(2+int(elapsed/(400*time.Millisecond))+2) {
		t.Errorf("%d requests in %v: the keeper does not back off", n, elapsed)
	}
	denied := logs.Entries(t, deniedMsg)
	if len(denied) != 1 {
		t.Fatalf("%d lines %q, want 1 per streak; log:\n%v", len(denied), deniedMsg, logs.Entries(t, ""))
	}
	if denied[0]["@level"] != "warn" || !strings.Contains(fmt.Sprint(denied[0]["err"]), "Permission denied") {
		t.Errorf("line = %v, want a warning with Consul's error", denied[0])
	}

	// The token is fixed (by an operator, in Consul): registered on the next attempt.
	agent.set(0, "")
	testkit.Eventually(t, 5*time.Second, "registered", func() bool { return len(logs.Entries(t, "registered in consul")) == 1 })

	// Consul fails while the instance is registered: one "lost" line. Then the token is revoked:
	// a different failure, said once more.
	agent.set(http.StatusServiceUnavailable, "agent down")
	testkit.Eventually(t, 5*time.Second, "lost", func() bool { return len(logs.Entries(t, lostMsg)) == 1 })
	agent.set(http.StatusForbidden, "ACL not found")
	testkit.Eventually(t, 5*time.Second, "unknown token", func() bool { return len(logs.Entries(t, unknownMsg)) == 1 })
	n := agent.count()
	testkit.Eventually(t, 5*time.Second, "three more attempts", func() bool { return agent.count() >= n+3 })
	for msg, want := range map[string]int{deniedMsg: 1, lostMsg: 1, unknownMsg: 1, cannotMsg: 0} {
		if got := len(logs.Entries(t, msg)); got != want {
			t.Errorf("%d lines %q, want %d", got, msg, want)
		}
	}
	// go-kit's Registrar logs every failed attempt: only at Debug level.
	for _, e := range logs.Entries(t, "") {
		if e["@level"] == "error" {
			t.Errorf("error line %v: failures are the keeper's to report, once per streak", e)
		}
	}
}

func TestKeeperSaysWhenConsulCannotBeReached(t *testing.T) {
	t.Parallel()
	client, err := api.NewClient(&api.Config{Address: "127.0.0.1:1"}) // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := testkit.NewLogger(hclog.Info)
	k := NewKeeper(client, &api.AgentServiceRegistration{ID: "stringsvc-1", Name: "stringsvc"}, time.Second, logger)
	defer k.Start().Stop()
	testkit.Eventually(t, 5*time.Second, "the failure is logged", func() bool { return len(logs.Entries(t, cannotMsg)) == 1 })
	time.Sleep(400 * time.Millisecond) // two retries more
	if lines := logs.Entries(t, ""); len(lines) != 1 {
		t.Fatalf("log = %v, want the one line %q", lines, cannotMsg)
	}
}

func TestDeregisterReturnsTheLastFailure(t *testing.T) {
	t.Parallel()
	k, agent, _ := newFakeKeeper(t, time.Second)
	agent.set(http.StatusForbidden, deniedByACL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := k.Deregister(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(fmt.Sprint(err), "Permission denied") {
		t.Fatalf("err = %v, want the deadline and the last refusal", err)
	}
}

func TestFailureKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"none", nil, failureNone},
		{"permission denied", api.StatusError{Code: 403, Body: deniedByACL}, failureDenied},
		{"unknown token", api.StatusError{Code: 403, Body: "ACL not found"}, failureUnknownToken},
		{"not found", api.StatusError{Code: 404, Body: "unknown service ID"}, failureOther},
		{"wrong CA", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), failureOther},
	} // consulacl's own test has the ways Consul words each
	for _, tt := range tests {
		if got := failureKind(tt.err); got != tt.want {
			t.Errorf("%s: failureKind(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// A started keeper registers in the background; Leave stops it and deregisters; stopping again
// does nothing.
func TestStartedKeeperRegistersThenLeaves(t *testing.T) {
	t.Parallel()
	k, agent, logs := newFakeKeeper(t, time.Second)
	kept := k.Start()
	testkit.Eventually(t, 5*time.Second, "registered", func() bool { return len(logs.Entries(t, "registered in consul")) == 1 })
	if err := kept.Leave(time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	agent.mu.Lock()
	registered := agent.registered
	agent.mu.Unlock()
	if registered {
		t.Error("still registered after Leave")
	}
	if len(logs.Entries(t, "deregistered from consul")) != 1 {
		t.Errorf("log = %v, want one deregistered line", logs.Entries(t, ""))
	}
	kept.Stop()
}
