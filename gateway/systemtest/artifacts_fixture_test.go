//go:build integration

package systemtest

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// artifactAddr is where scripts/dev.sh and cluster.sh serve the local release store, and so where
// scripts/deploy.sh expects it.
const artifactAddr = "127.0.0.1:8070"

// releaseStore is a local release store of the test's own (scripts/artifacts.sh), served on
// artifactAddr by the artifact server scripts/build.sh built beside the binaries under test: the
// Nomad jobs download stringsvc and the gateway from it as checksummed artifacts.
type releaseStore struct {
	dir string
}

func serveReleases(t *testing.T) *releaseStore {
	t.Helper()
	s := &releaseStore{dir: t.TempDir()}
	startProcess(t, "artifact-server", filepath.Join(filepath.Dir(bins.stringsvc), "artifact-server"), nil,
		"-dir", s.dir, "-listen", artifactAddr)
	testkit.Eventually(t, 10*time.Second, "the artifact server answers", func() bool {
		resp, err := http.Get("http://" + artifactAddr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound // no listings
	})
	return s
}

// env is what scripts/deploy.sh needs to publish to this store.
func (s *releaseStore) env() []string { return []string{"ARTIFACT_STORE=" + s.dir} }

// publish puts the binaries under test into the store as a release (scripts/artifacts.sh publish)
// and returns the job variables that deploy it: its URL and the binaries' checksums.
func (s *releaseStore) publish(t *testing.T) []string {
	t.Helper()
	return s.publishDir(t, filepath.Dir(bins.stringsvc))
}

// publishWithStringsvc publishes a release whose stringsvc is the given program (the gateway is
// the one under test) and returns its job variables.
func (s *releaseStore) publishWithStringsvc(t *testing.T, program []byte) []string {
	t.Helper()
	dir := t.TempDir()
	gw, err := os.ReadFile(bins.gateway)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "gateway"), gw, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "stringsvc"), program, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s.publishDir(t, dir)
}

func (s *releaseStore) publishDir(t *testing.T, bin string) []string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "artifacts.sh"), "publish", bin)
	cmd.Env = append(os.Environ(), s.env()...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/artifacts.sh publish: %v", err)
	}
	release := strings.TrimSpace(string(out))
	sums, err := os.ReadFile(filepath.Join(s.dir, release, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	vars := []string{"NOMAD_VAR_artifact_url=http://" + artifactAddr + "/" + release}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			t.Fatalf("%s/SHA256SUMS: bad line %q", release, line)
		}
		vars = append(vars, "NOMAD_VAR_"+fields[1]+"_sha256="+fields[0])
	}
	return vars
}
