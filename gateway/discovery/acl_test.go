package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	kitconsul "github.com/go-kit/kit/sd/consul"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// answer is one scripted answer of aclConsul: an HTTP error status with body, or n instances,
// marked as filtered by ACLs or not, from a Consul whose default ACL policy is deny or allow.
type answer struct {
	status   int
	body     string
	n        int
	filtered bool
	deny     bool
}

// aclConsul answers the health queries of a real consul/api client (so the header parsing of
// consul/api is part of the test) with its script, then with one instance. It answers a read of
// the client's own token as Consul does: 403 "ACL not found" when the client sends none.
type aclConsul struct {
	mu        sync.Mutex
	script    []answer
	index     int
	selfReads int
	indexes   []string // the index parameter of each health query ("": none, not blocking)
}

func (s *aclConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/v1/acl/token/self" {
		s.selfReads++
		if r.Header.Get("X-Consul-Token") == "" {
			http.Error(w, "ACL not found", http.StatusForbidden)
			return
		}
		w.Header().Set("X-Consul-LastContact", "0")
		fmt.Fprint(w, `{"AccessorID":"a1","SecretID":"s1"}`)
		return
	}
	s.indexes = append(s.indexes, r.URL.Query().Get("index"))
	a := answer{n: 1}
	if len(s.script) > 0 {
		a, s.script = s.script[0], s.script[1:]
	}
	if a.status != 0 {
		http.Error(w, a.body, a.status)
		return
	}
	s.index++
	w.Header().Set("X-Consul-Index", fmt.Sprint(s.index))
	// consul/api stops reading the headers at a missing X-Consul-LastContact; Consul always sets it.
	w.Header().Set("X-Consul-LastContact", "0")
	w.Header().Set("X-Consul-KnownLeader", "true")
	if a.filtered {
		w.Header().Set("X-Consul-Results-Filtered-By-ACLs", "true")
	}
	w.Header().Set("X-Consul-Default-ACL-Policy", map[bool]string{true: "deny", false: "allow"}[a.deny])
	entries := make([]*api.ServiceEntry, a.n)
	for i := range entries {
		entries[i] = &api.ServiceEntry{Node: &api.Node{Address: "127.0.0.1"}, Service: &api.AgentService{Service: "stringsvc", Port: 9000 + i}}
	}
	_ = json.NewEncoder(w).Encode(entries)
}

// reads returns how often the client read its own token.
func (s *aclConsul) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selfReads
}

// newACLClient returns a resilientClient (with its token check, as NewInstancer makes it) of an
// aclConsul with script, sending token ("": none).
func newACLClient(t *testing.T, token string, script ...answer) (*resilientClient, *aclConsul, *testkit.Logs) {
	t.Helper()
	consul := &aclConsul{script: script}
	srv := httptest.NewServer(consul)
	t.Cleanup(srv.Close)
	client, err := api.NewClient(&api.Config{Address: srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := testkit.NewLogger(hclog.Info)
	c := &resilientClient{Client: kitconsul.NewClient(client), ctx: context.Background(), wait: 20 * time.Millisecond, logger: logger}
	c.acl.self = selfCheck(client)
	return c, consul, logs
}

const (
	hiddenMsg    = "warn: consul hid instances from this token: it lacks service:read on stringsvc or node:read (set CONSUL_HTTP_TOKEN)"
	tokenlessMsg = "warn: consul shows no instance to a gateway without an ACL token: its ACLs deny by default (set CONSUL_HTTP_TOKEN to a token with service:read on stringsvc and node:read)"
	shownMsg     = "info: consul no longer hides instances from this token"
	refusedMsg   = "warn: consul refused the query: the ACL token is unknown or lacks service:read on stringsvc (set CONSUL_HTTP_TOKEN)"
)

func TestAnswersFilteredByACLsAreLoggedOncePerStreak(t *testing.T) {
	t.Parallel()
	// A token without read rights: Consul answers 200 without the instances, flagged. Then the
	// token gets its rights.
	c, consul, logs := newACLClient(t, "weak", answer{filtered: true, deny: true}, answer{filtered: true, deny: true}, answer{filtered: true, deny: true}, answer{n: 2, deny: true})
	for i, want := range []int{0, 0, 0, 2} {
		entries, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{})
		if err != nil || len(entries) != want {
			t.Fatalf("query %d: %d entries, err %v; want %d", i, len(entries), err, want)
		}
	}
	if got, want := logs.Messages(t), []string{hiddenMsg, shownMsg}; !equal(got, want) {
		t.Fatalf("log = %q, want %q", got, want)
	}
	if consul.reads() != 0 {
		t.Errorf("%d reads of the token: want none (the flag says it all)", consul.reads())
	}
}

func TestEmptyAnswersToAGatewayWithoutTokenAreLoggedOnce(t *testing.T) {
	t.Parallel()
	// No token, default deny: Consul answers empty, and never flags an answer to a request
	// without a token. Then the operator gives the anonymous token the rights.
	c, consul, logs := newACLClient(t, "", answer{deny: true}, answer{deny: true}, answer{deny: true}, answer{n: 1, deny: true})
	start := time.Now()
	for i, want := range []int{0, 0, 0, 1} {
		if entries, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{WaitIndex: 7}); err != nil || len(entries) != want {
			t.Fatalf("query %d: %d entries, err %v; want %d", i, len(entries), err, want)
		}
	}
	// While instances are hidden, it does not block (Consul's streaming answers would stay
	// hidden) but asks afresh once per wait bound.
	consul.mu.Lock()
	indexes := consul.indexes
	consul.mu.Unlock()
	if want := []string{"7", "", "", ""}; !equal(indexes, want) {
		t.Errorf("index parameters %q, want %q", indexes, want)
	}
	if elapsed := time.Since(start); elapsed < 3*c.wait {
		t.Errorf("4 queries in %v: want one per wait bound (%v) while hidden", elapsed, c.wait)
	}
	if got, want := logs.Messages(t), []string{tokenlessMsg, shownMsg}; !equal(got, want) {
		t.Fatalf("log = %q, want %q", got, want)
	}
	if consul.reads() != 1 {
		t.Errorf("%d reads of the token, want 1: it does not change", consul.reads())
	}
}

func TestEmptyAnswersWithAKnownTokenOrWithoutDenyAreNotACLs(t *testing.T) {
	t.Parallel()
	// A token Consul knows, no instance registered: nothing is hidden, and the token is read once.
	c, consul, logs := newACLClient(t, "good", answer{deny: true}, answer{deny: true})
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	if got := logs.Messages(t); len(got) != 0 || consul.reads() != 1 {
		t.Errorf("log = %q, %d reads of the token; want nothing logged, 1 read", got, consul.reads())
	}
	// No token, but no ACLs that deny (default allow): empty means empty; nothing is asked.
	c, consul, logs = newACLClient(t, "", answer{}, answer{})
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	if got := logs.Messages(t); len(got) != 0 || consul.reads() != 0 {
		t.Errorf("log = %q, %d reads of the token; want nothing logged, no read", got, consul.reads())
	}
}

func TestFilteredEmptyAnswersHeldBackAreLoggedToo(t *testing.T) {
	t.Parallel()
	// Instances were known, then the token lost its rights (Consul hides them all): the empty
	// answers are held back as usual, and the log says why they are empty.
	c, _, logs := newACLClient(t, "weak", answer{n: 1}, answer{filtered: true}, answer{filtered: true}, answer{n: 1})
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	if entries, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{}); err != nil || len(entries) != 1 {
		t.Fatalf("%d entries, err %v: want the empty answers skipped", len(entries), err)
	}
	want := []string{
		hiddenMsg,
		"warn: consul reports no passing instance; keeping the last known ones",
		shownMsg,
		"info: instances pass again",
	}
	if got := logs.Messages(t); !equal(got, want) {
		t.Fatalf("log = %q, want %q", got, want)
	}
}

func TestRefusedTokenIsLoggedAsSuch(t *testing.T) {
	t.Parallel()
	c, _, logs := newACLClient(t, "deleted",
		answer{status: http.StatusForbidden, body: "ACL not found"},
		answer{status: http.StatusForbidden, body: "ACL not found"},
		answer{status: http.StatusForbidden, body: "ACL not found"},
	)
	var se api.StatusError
	if _, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{}); !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Fatalf("first query: err = %v, want the 403", err)
	}
	// The instancer's next query retries (with backoff) until Consul accepts the token.
	if entries, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{}); err != nil || len(entries) != 1 {
		t.Fatalf("%d entries, err %v", len(entries), err)
	}
	if got, want := logs.Messages(t), []string{refusedMsg, "info: consul reachable again"}; !equal(got, want) {
		t.Fatalf("log = %q, want %q", got, want)
	}
}

func TestUnreachableConsulIsStillLoggedAsUnreachable(t *testing.T) {
	t.Parallel()
	c, _, logs := newACLClient(t, "", answer{status: http.StatusInternalServerError, body: "No cluster leader"})
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	if got, want := logs.Messages(t), []string{"warn: consul unreachable; keeping the instances known so far"}; !equal(got, want) {
		t.Fatalf("log = %q, want %q", got, want)
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
