//go:build integration

package systemtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// anonymousToken is the AccessorID of Consul's anonymous token: what a request without a token
// acts as.
const anonymousToken = "00000000-0000-0000-0000-000000000002"

// Rules of the two tokens the binaries get. Each rule is there because the test fails without it.
const (
	// stringsvc registers, re-checks and deregisters its own instance through the local agent,
	// with its HTTP health check: service:write on its service covers all of it (write includes
	// read, for the keeper's re-check), and the agent syncs the instance to the catalog with the
	// token that registered it. Nothing on nodes: the node is in the catalog already (the leader
	// adds every member of the cluster). The agent's own token (acl.tokens.agent, not set here)
	// only updates its node's details; without it Consul logs "Node info update blocked by ACLs",
	// which does not keep any instance out of the catalog.
	registerRules = `service "stringsvc" { policy = "write" }`
	// The gateway asks for the passing instances: Consul filters out every instance whose service
	// the token may not read AND every instance on a node the token may not read; node_prefix ""
	// because instances may run on any node. It also registers itself, for monitoring.
	discoverRules = `service "stringsvc" { policy = "read" }
node_prefix "" { policy = "read" }
service "gateway" { policy = "write" }`
)

// Log lines the test waits for (stringsvc/registry/keeper.go, gateway/discovery/acl.go and catalog.go).
const (
	msgRegisterDenied = "consul refused the registration: the ACL token lacks service:write on stringsvc (set CONSUL_HTTP_TOKEN)"
	msgCannotRegister = "cannot register in consul; retrying"
	msgHidden         = "consul hid instances from this token: it lacks service:read on stringsvc or node:read (set CONSUL_HTTP_TOKEN)"
	msgTokenless      = "consul shows no service to a gateway without an ACL token: its ACLs deny by default (set CONSUL_HTTP_TOKEN to a token with service:read on the services to route and node:read)"
	msgShown          = "consul no longer hides instances from this token"
	msgServicesShown  = "consul no longer hides services from this token"
)

// TestConsulACLAndTLS runs a Consul agent with ACLs in default-deny mode and HTTPS, and stringsvc
// and the gateway against it: with narrow tokens over TLS they work; without a token, or with a
// CA that is not Consul's, they say why in one log line, keep running and keep retrying at a
// bounded rate, and recover without a restart once the anonymous token is given the rights.
func TestConsulACLAndTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "consul-ca")
	c := startACLConsul(t, dir, ca)

	registerToken := c.createToken(t, "stringsvc-register", registerRules)
	discoverToken := c.createToken(t, "gateway-discover", discoverRules)
	tlsEnv := []string{"CONSUL_HTTP_ADDR=https://" + c.httpsAddr, "CONSUL_CACERT=" + ca.certFile}

	// a) The narrow tokens over HTTPS: stringsvc registers and passes, the gateway routes to it.
	svc := startStringsvc(t, append(tlsEnv, "CONSUL_HTTP_TOKEN="+registerToken)...)
	svc.proc.waitLogEntry(t, "registered in consul", 10*time.Second)
	c.waitPassingIDs(t, []string{svc.id}, 15*time.Second)
	g := startGateway(t, append(tlsEnv, "CONSUL_HTTP_TOKEN="+discoverToken)...)
	g.waitRoutes(t, 1, 15*time.Second)
	g.proc.waitLogEntry(t, "registered in consul", 15*time.Second) // itself, for monitoring
	if status, body := g.post(t, "/stringsvc/uppercase", `{"s":"acl"}`); status != http.StatusOK || body != `{"v":"ACL"}` {
		t.Fatalf("through the gateway with the read-only token over TLS: %d %s, want 200 {\"v\":\"ACL\"}", status, body)
	}
	for _, p := range []*process{svc.proc, g.proc} {
		for _, msg := range []string{msgRegisterDenied, msgCannotRegister, msgHidden, msgTokenless} {
			if p.findLogEntry(msg, nil) != nil {
				t.Errorf("%s logged %q with a valid token", p.name, msg)
			}
		}
	}

	// A token that may read the service but not the nodes: Consul hides the instance and flags
	// the answer; the gateway says so (and, checked after the window below, has not said otherwise since).
	weakToken := c.createToken(t, "gateway-weak", `service "stringsvc" { policy = "read" }`)
	weak := startGateway(t, append(tlsEnv, "CONSUL_HTTP_TOKEN="+weakToken, "GATEWAY_CONSUL_WAIT="+consulWait.String())...)
	weak.proc.waitLogEntry(t, msgHidden, 10*time.Second)
	if status, _ := weak.post(t, "/stringsvc/uppercase", `{"s":"acl"}`); status != http.StatusServiceUnavailable {
		t.Errorf("gateway with a token without node:read: %d, want 503 (it sees no instance)", status)
	}

	// b, c) Each token can do its job and nothing else.
	t.Run("register token is narrow", func(t *testing.T) {
		client := c.client(t, registerToken)
		other := &api.AgentServiceRegistration{ID: "other-1", Name: "other", Address: "127.0.0.1", Port: 1}
		wantDenied(t, "register another service", client.Agent().ServiceRegister(other))
		_, _, err := client.KV().Get("config", nil)
		wantDenied(t, "read the KV store", err)
		_, err = client.KV().Put(&api.KVPair{Key: "config", Value: []byte("x")}, nil)
		wantDenied(t, "write the KV store", err)
	})
	t.Run("discover token cannot register", func(t *testing.T) {
		client := c.client(t, discoverToken)
		reg := &api.AgentServiceRegistration{ID: "stringsvc-fake", Name: "stringsvc", Address: "127.0.0.1", Port: 1}
		wantDenied(t, "register stringsvc", client.Agent().ServiceRegister(reg))
		entries, _, err := client.Health().Service(service, "", true, nil)
		if err != nil || len(entries) != 1 {
			t.Errorf("health query: %d entries, err %v; want the one instance", len(entries), err)
		}
	})
	t.Run("unknown token is refused", func(t *testing.T) {
		// What a typo or a deleted token gets: 403 "ACL not found" (the binaries' logs say so).
		client := c.client(t, newUUID(t))
		_, _, err := client.Health().Service(service, "", true, nil)
		wantNotFound(t, "health query with an unknown token", err)
	})
	t.Run("what consul tells a client without token", func(t *testing.T) {
		// What the gateway's discovery relies on (gateway/discovery/acl.go): an answer to a request
		// without a token is empty and never flagged, but says the default policy is deny; reading
		// one's own token then fails with "ACL not found".
		client := c.client(t, "")
		entries, meta, err := client.Health().Service(service, "", true, nil)
		if err != nil || len(entries) != 0 || meta.ResultsFilteredByACLs || meta.DefaultACLPolicy != "deny" {
			t.Errorf("health query without token: %d entries, err %v, meta %+v; want 0, unflagged, default policy deny", len(entries), err, meta)
		}
		_, _, err = client.ACL().TokenReadSelf(nil)
		wantNotFound(t, "reading its own token without one", err)
		// A token without any acl rule may still read itself: the gateway's check works with it.
		if _, _, err := c.client(t, discoverToken).ACL().TokenReadSelf(nil); err != nil {
			t.Errorf("the discover token reading itself: %v", err)
		}
		// With a token that may read the service but not the nodes, the answer is flagged.
		entries, meta, err = c.client(t, weakToken).Health().Service(service, "", true, nil)
		if err != nil || len(entries) != 0 || !meta.ResultsFilteredByACLs {
			t.Errorf("health query without node:read: %d entries, err %v, flagged %v; want 0, flagged", len(entries), err, meta != nil && meta.ResultsFilteredByACLs)
		}
	})

	// d, e) Without a token (through counting proxies, to measure how often each asks), and with
	// the right token but a CA that is not Consul's. Instance a) stays registered, so Consul really
	// has an instance to hide from the gateway.
	svcProxy, gwProxy := startCountingProxy(t, c.httpAddr), startCountingProxy(t, c.httpAddr)
	noToken := startStringsvc(t, "CONSUL_HTTP_ADDR="+svcProxy.addr, "CONSUL_HTTP_TOKEN=")
	// Its own registration off: the proxy counts discovery's queries (the registration's retries
	// are the Keeper's, counted for stringsvc).
	noTokenGW := startGateway(t, "CONSUL_HTTP_ADDR="+gwProxy.addr, "CONSUL_HTTP_TOKEN=", "GATEWAY_CONSUL_WAIT="+consulWait.String(),
		"GATEWAY_REGISTER=false")
	wrongCA := newTestCA(t, dir, "other-ca")
	tlsConns := startConnCounter(t, c.httpsAddr)
	badCA := startStringsvc(t, "CONSUL_HTTP_ADDR=https://"+tlsConns.addr, "CONSUL_CACERT="+wrongCA.certFile, "CONSUL_HTTP_TOKEN="+registerToken)

	denied := noToken.proc.waitLogEntry(t, msgRegisterDenied, 10*time.Second)
	if !strings.Contains(fmt.Sprint(denied["err"]), "Permission denied") {
		t.Errorf("stringsvc without token: err = %v, want Consul's Permission denied", denied["err"])
	}
	noTokenGW.proc.waitLogEntry(t, msgTokenless, 10*time.Second)
	certErr := badCA.proc.waitLogEntry(t, msgCannotRegister, 10*time.Second)
	if !strings.Contains(fmt.Sprint(certErr["err"]), "certificate") {
		t.Errorf("stringsvc with the wrong CA: err = %v, want the certificate error", certErr["err"])
	}
	if status, _ := noTokenGW.post(t, "/stringsvc/uppercase", `{"s":"acl"}`); status != http.StatusServiceUnavailable {
		t.Errorf("gateway without token: %d, want 503 (it sees no instance)", status)
	}

	// Over a window, each keeps retrying at the rate its backoff allows, and none of them spins.
	const window = 3 * time.Second
	svcStart, gwStart, tlsStart := svcProxy.count(), gwProxy.count(), tlsConns.count()
	time.Sleep(window) // a measurement window, not a wait for a condition
	svcN, gwN, tlsN := svcProxy.count()-svcStart, gwProxy.count()-gwStart, tlsConns.count()-tlsStart
	t.Logf("in %v: stringsvc without token made %d consul requests, the gateway without token %d, stringsvc with the wrong CA %d TLS connections",
		window, svcN, gwN, tlsN)
	// stringsvc: one attempt (a read and a registration) per -resync once its backoff (100 ms,
	// doubling) has reached it: window/resync, +1 for the window's edges, +3 for the backoff's
	// steps below -resync (100, 200, 400 ms), which the window may still see. A busy loop would
	// make thousands.
	maxAttempts := int64(window/stringsvcResync) + 4
	if svcN < 2 || svcN > 2*maxAttempts {
		t.Errorf("stringsvc without token: %d requests in %v, want 2 to %d (a read and a registration per attempt)", svcN, window, 2*maxAttempts)
	}
	if tlsN < 1 || tlsN > maxAttempts {
		t.Errorf("stringsvc with the wrong CA: %d connections in %v, want 1 to %d (one per attempt)", tlsN, window, maxAttempts)
	}
	// The gateway: while Consul hides instances, one query per -consul-wait (see
	// gateway/discovery/acl.go), plus the start of the window and its one read of its own token.
	if maxQueries := int64(window/consulWait) + 3; gwN > maxQueries {
		t.Errorf("gateway without token: %d queries in %v, want at most %d (one per %v)", gwN, window, maxQueries, consulWait)
	}
	for _, p := range []*process{noToken.proc, noTokenGW.proc, badCA.proc} {
		if !p.running() {
			t.Fatalf("%s exited", p.name)
		}
	}
	for p, msg := range map[*process]string{noToken.proc: msgRegisterDenied, noTokenGW.proc: msgTokenless, badCA.proc: msgCannotRegister} {
		if n := countLogEntries(p, msg); n != 1 {
			t.Errorf("%s logged %q %d times, want once for the whole streak", p.name, msg, n)
		}
	}

	if hidden, shown := countLogEntries(weak.proc, msgHidden), countLogEntries(weak.proc, msgShown); hidden != 1 || shown != 0 {
		t.Errorf("gateway without node:read logged %q %d times and %q %d times, want once and never: its token did not change",
			msgHidden, hidden, msgShown, shown)
	}

	// Last, as it makes the anonymous token powerful for the rest of the test: the operator gives
	// the anonymous token both rule sets. The same processes, never restarted, register and route.
	c.grantAnonymous(t, registerRules+"\n"+discoverRules)
	granted := time.Now()
	noToken.proc.waitLogEntry(t, "registered in consul", 10*time.Second)
	c.waitPassingIDs(t, []string{svc.id, noToken.id}, 15*time.Second)
	noTokenGW.proc.waitLogEntry(t, msgServicesShown, 10*time.Second)
	noTokenGW.waitRoutes(t, 1, 10*time.Second)
	if status, body := noTokenGW.post(t, "/stringsvc/uppercase", `{"s":"acl"}`); status != http.StatusOK || body != `{"v":"ACL"}` {
		t.Fatalf("through the gateway without token, after the fix: %d %s", status, body)
	}
	t.Logf("%v after the anonymous token got the rules, the processes without token registered and routed", time.Since(granted).Round(time.Millisecond))
	if !badCA.proc.running() || badCA.proc.findLogEntry("registered in consul", nil) != nil {
		t.Errorf("stringsvc with the wrong CA: running %v, registered: want running and never registered", badCA.proc.running())
	}
}

const (
	// stringsvcResync is the -resync startStringsvc gives: the longest wait between its attempts.
	stringsvcResync = 500 * time.Millisecond
	// consulWait is the -consul-wait of the gateway without token: how often it asks while Consul
	// hides instances from it.
	consulWait = time.Second
)

// aclConsul is a Consul dev agent with ACLs (default deny) on plain HTTP and on HTTPS.
type aclConsul struct {
	proc       *process
	httpAddr   string // host:port
	httpsAddr  string // host:port
	management string // the initial management token
	api        *api.Client
}

// startACLConsul starts the agent with a TLS certificate of ca for 127.0.0.1 and localhost, and
// waits until its ACL system answers the management token.
func startACLConsul(t *testing.T, dir string, ca *testCA) *aclConsul {
	t.Helper()
	cert, key := ca.issueServerCert(t, dir, "consul")
	c := &aclConsul{httpAddr: freeAddr(t), httpsAddr: freeAddr(t), management: newUUID(t)}
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	config := fmt.Sprintf(`
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
disable_update_check = true
ports {
  http     = %s
  https    = %s
  grpc     = -1
  dns      = -1
  serf_lan = %s
  serf_wan = %s
  server   = %s
}
acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = false
  tokens {
    initial_management = %q
  }
}
tls {
  defaults {
    ca_file         = %q
    cert_file       = %q
    key_file        = %q
    verify_incoming = false
  }
}
`, port(c.httpAddr), port(c.httpsAddr), port(freeAddr(t)), port(freeAddr(t)), port(freeAddr(t)),
		c.management, ca.certFile, cert, key)
	file := filepath.Join(dir, "consul.hcl")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c.proc = startProcess(t, "consul", bins.consul, nil,
		"agent", "-dev", "-config-file", file, "-log-level", "warn")
	c.api = c.client(t, c.management)
	testkit.Eventually(t, 20*time.Second, "consul's ACL system answers the management token", func() bool {
		_, _, err := c.api.ACL().TokenReadSelf(nil)
		return err == nil
	})
	return c
}

// client returns a plain HTTP client of the agent that sends token.
func (c *aclConsul) client(t *testing.T, token string) *api.Client {
	t.Helper()
	client, err := api.NewClient(&api.Config{Address: c.httpAddr, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// createToken creates a policy named name with rules and returns the secret of a new token with it.
func (c *aclConsul) createToken(t *testing.T, name, rules string) string {
	t.Helper()
	policy, _, err := c.api.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	if err != nil {
		t.Fatalf("policy %s: %v", name, err)
	}
	token, _, err := c.api.ACL().TokenCreate(&api.ACLToken{Description: name, Policies: []*api.ACLTokenPolicyLink{{ID: policy.ID}}}, nil)
	if err != nil {
		t.Fatalf("token %s: %v", name, err)
	}
	return token.SecretID
}

// grantAnonymous gives the anonymous token (requests without a token) a policy with rules.
func (c *aclConsul) grantAnonymous(t *testing.T, rules string) {
	t.Helper()
	policy, _, err := c.api.ACL().PolicyCreate(&api.ACLPolicy{Name: "anonymous", Rules: rules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	anon, _, err := c.api.ACL().TokenRead(anonymousToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	anon.Policies = append(anon.Policies, &api.ACLTokenPolicyLink{ID: policy.ID})
	if _, _, err := c.api.ACL().TokenUpdate(anon, nil); err != nil {
		t.Fatalf("updating the anonymous token: %v", err)
	}
}

// waitPassingIDs waits until exactly the instances ids pass (asked with the management token).
func (c *aclConsul) waitPassingIDs(t *testing.T, ids []string, timeout time.Duration) {
	t.Helper()
	testkit.Eventually(t, timeout, fmt.Sprintf("instances %v pass in consul", ids), func() bool {
		entries, _, err := c.api.Health().Service(service, "", true, nil)
		if err != nil || len(entries) != len(ids) {
			return false
		}
		for _, e := range entries {
			if !contains(ids, e.Service.ID) {
				return false
			}
		}
		return true
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// wantDenied fails unless err is Consul's 403 "Permission denied".
func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	var se api.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden || !strings.Contains(se.Body, "Permission denied") {
		t.Errorf("%s: err = %v, want 403 Permission denied", what, err)
	}
}

// wantNotFound fails unless err is Consul's 403 "ACL not found" (an unknown token, or none).
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	var se api.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden || !strings.Contains(se.Body, "ACL not found") {
		t.Errorf("%s: err = %v, want 403 ACL not found", what, err)
	}
}

// countLogEntries counts the JSON log lines of p with @message msg.
func countLogEntries(p *process, msg string) int {
	n := 0
	for _, line := range p.output() {
		if strings.Contains(line, `"@message":"`+msg+`"`) {
			n++
		}
	}
	return n
}

// newUUID returns a random (version 4) UUID, the form Consul wants for token secrets.
func newUUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
