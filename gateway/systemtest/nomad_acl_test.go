//go:build integration

package systemtest

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// TestNomadConsulACLFromVariables runs the jobs on a real Nomad against the Consul job with ACLs
// on (default deny), where every secret reaches its task only through a Nomad Variable read by a
// template (nomadVar): Consul's management token (nomad/jobs/consul), stringsvc's register token
// (nomad/jobs/stringsvc) and the gateway's discovery token (nomad/jobs/gateway), each with the
// narrow rules of TestConsulACLAndTLS. The instances register and pass, the gateway routes to
// them, a request without a token sees nothing, and no token is in any job Nomad holds.
func TestNomadConsulACLFromVariables(t *testing.T) {
	nomad := startNomad(t)
	env := append(jobEnv(), serveReleases(t).publish(t)...)
	c := &aclConsul{httpAddr: consulAddr, management: newUUID(t)}
	nomad.putVar(t, "nomad/jobs/consul", "management_token="+c.management)
	nomad.runJob(t, env, "consul")
	c.api = c.client(t, c.management)
	testkit.Eventually(t, 60*time.Second, "the consul job's ACL system answers the management token", func() bool {
		_, _, err := c.api.ACL().TokenReadSelf(nil)
		return err == nil
	})

	register := c.createToken(t, "stringsvc-register", registerRules)
	discover := c.createToken(t, "gateway-discover", discoverRules)
	nomad.putVar(t, "nomad/jobs/stringsvc", "consul_token="+register)
	nomad.putVar(t, "nomad/jobs/gateway", "consul_token="+discover)
	nomad.runJob(t, env, "stringsvc")
	nomad.runJob(t, env, "gateway")

	testkit.Eventually(t, 90*time.Second, "3 stringsvc instances pass (seen with the management token)", func() bool {
		entries, _, err := c.api.Health().Service(service, "", true, nil)
		return err == nil && len(entries) == 3
	})
	g := &gateway{url: "http://127.0.0.1:8080"}
	g.waitRoutes(t, 10, 60*time.Second)
	testkit.Eventually(t, 30*time.Second, "the gateway registered itself with its token, passing", func() bool {
		entries, _, err := c.api.Health().Service("gateway", "", true, nil)
		return err == nil && len(entries) == 1
	})
	if status, body := g.post(t, "/stringsvc/uppercase", `{"s":"acl"}`); status != http.StatusOK || body != `{"v":"ACL"}` {
		t.Fatalf("through the gateway: %d %s, want 200 {\"v\":\"ACL\"}", status, body)
	}

	// ACLs are really on: without a token Consul shows nothing and says it denies by default.
	entries, meta, err := c.client(t, "").Health().Service(service, "", true, nil)
	if err != nil || len(entries) != 0 || meta.DefaultACLPolicy != "deny" {
		t.Errorf("health query without token: %d entries, err %v, meta %+v; want none, default policy deny", len(entries), err, meta)
	}
	// The secrets are in the Variables only: no job Nomad holds (the submitted specs included) has one.
	for _, job := range []string{"consul", "stringsvc", "gateway"} {
		for _, path := range []string{"/v1/job/" + job, "/v1/job/" + job + "/submission?version=0"} {
			body := string(getOK(t, nomad.addr+path))
			for name, secret := range map[string]string{"management": c.management, "register": register, "discover": discover} {
				if strings.Contains(body, secret) {
					t.Errorf("%s holds the %s token", path, name)
				}
			}
		}
	}
}

// putVar writes a Nomad Variable at path with the items (key=value), as an operator would.
func (n *nomadAgent) putVar(t *testing.T, path string, items ...string) {
	t.Helper()
	if out, err := n.cli(t, nil, append([]string{"var", "put", "-force", path}, items...)...); err != nil {
		t.Fatalf("nomad var put %s: %v\n%s", path, err, out)
	}
}

// runJob runs nomad/<job>.nomad with env (its variables), waiting for its evaluation and, for a
// service job, its deployment.
func (n *nomadAgent) runJob(t *testing.T, env []string, job string) {
	t.Helper()
	if out, err := n.cli(t, env, "job", "run", filepath.Join(repoRoot, "nomad", job+".nomad")); err != nil {
		t.Fatalf("nomad job run %s: %v\n%s", job, err, out)
	}
}
