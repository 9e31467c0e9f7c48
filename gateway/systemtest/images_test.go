//go:build integration

package systemtest

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// TestContainerImages builds both images with `scripts/build.sh images` on a dockerd of its own,
// checks that each holds its binary alone and runs it as a non-root user, then runs two stringsvc
// containers and a gateway container on host networking against a real Consul: the gateway
// answers through both instances, and `docker stop` of one deregisters it, drains it and ends it
// with status 0 while requests through the gateway keep succeeding.
func TestContainerImages(t *testing.T) {
	d := startDockerd(t)
	built := d.buildImages(t)
	images := map[string]string{"stringsvc": "gokit-nomad/stringsvc:latest", "gateway": "gokit-nomad/gateway:latest"}
	for binary, image := range images {
		if !strings.Contains(built, image) {
			t.Fatalf("scripts/build.sh images did not print %s:\n%s", image, built)
		}
		// FROM scratch: no shell, no libc, nothing but the binary.
		if files := d.imageFiles(t, image); !slices.Equal(files, []string{binary}) {
			t.Errorf("%s holds %v, want only %s", image, files, binary)
		}
		labels := d.must(t, "image", "inspect", "--format",
			`{{.Config.User}} {{index .Config.Labels "org.opencontainers.image.title"}}`, image)
		if labels != "65532:65532 "+binary {
			t.Errorf("%s: user and title label %q, want %q", image, labels, "65532:65532 "+binary)
		}
	}

	c := startConsul(t)
	addrs := []string{freeAddr(t), freeAddr(t)}
	for i, addr := range addrs {
		d.runContainer(t, fmt.Sprintf("stringsvc-%d", i+1), images["stringsvc"], []string{
			"CONSUL_HTTP_ADDR=" + consulAddr, "LOG_JSON=true",
			"STRINGSVC_LISTEN=" + addr, "STRINGSVC_DRAIN=" + drain.String(), "STRINGSVC_RESYNC=500ms",
		})
	}
	gatewayAddr := freeAddr(t)
	d.runContainer(t, "gateway", images["gateway"], []string{
		"CONSUL_HTTP_ADDR=" + consulAddr, "LOG_JSON=true", "GATEWAY_LISTEN=" + gatewayAddr,
	})
	g := &gateway{url: "http://" + gatewayAddr}
	c.waitPassing(t, 2, 30*time.Second)
	g.waitRoutes(t, 10, 15*time.Second)
	if status, answer := g.post(t, "/stringsvc/uppercase", `{"s":"foo"}`); status != http.StatusOK || answer != `{"v":"FOO"}` {
		t.Fatalf("through the gateway: %d %s, want 200 {\"v\":\"FOO\"}", status, answer)
	}
	byAddr := map[string]*instance{}
	for _, in := range c.passingInstances(t) {
		byAddr[in.addr] = in
	}
	for _, addr := range addrs {
		in := byAddr[addr]
		if in == nil {
			t.Fatalf("no instance registered at %s (its listen address); consul has %v", addr, c.passing(t))
		}
		if in.served(t) == 0 {
			t.Errorf("the instance at %s got no request through the gateway", addr)
		}
	}
	for _, name := range []string{"stringsvc-1", "stringsvc-2", "gateway"} {
		if uids := processUIDs(t, d.must(t, "container", "inspect", "--format", "{{.State.Pid}}", name)); uids != "65532 65532 65532 65532" {
			t.Errorf("container %s runs as uids %q (real, effective, saved, fs), want 65532", name, uids)
		}
	}

	// docker stop sends SIGTERM: the instance deregisters, keeps serving for its drain, then exits.
	stopping := byAddr[addrs[0]]
	l := startLoad(g, 4, 30*time.Second) // ends at the latest 30 s on: stopped once the container is gone
	begin := time.Now()
	stopped := make(chan error, 1)
	go func() {
		_, err := d.docker("stop", "--time", "15", "stringsvc-1")
		stopped <- err
	}()
	testkit.Eventually(t, 10*time.Second, "the stopping instance is deregistered from consul", func() bool {
		return !slices.Contains(c.instanceIDs(t, false), stopping.id)
	})
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("docker stop stringsvc-1 did not return in 30s")
	}
	took := time.Since(begin)
	l.stop()
	result := l.wait(t)
	requireNoFailures(t, result)
	if result.requests == 0 {
		t.Fatal("no request was sent during the stop")
	}
	state := d.must(t, "container", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "stringsvc-1")
	t.Logf("docker stop took %v; the container is %s", took.Round(10*time.Millisecond), state)
	if state != "exited 0" {
		t.Errorf("stringsvc-1 after docker stop: %q, want exited 0", state)
	}
	if took < drain {
		t.Errorf("stringsvc-1 ended %v after SIGTERM, before its %v drain", took, drain)
	}
	if status, answer := g.post(t, "/stringsvc/uppercase", `{"s":"after"}`); status != http.StatusOK || answer != `{"v":"AFTER"}` {
		t.Errorf("after the stop: %d %s, want 200 {\"v\":\"AFTER\"}", status, answer)
	}
}

// processUIDs returns the uids of the process (real, effective, saved and filesystem), from
// /proc/<pid>/status. A container's .State.Pid is its PID in dockerd's PID namespace: the test's.
func processUIDs(t *testing.T, pid string) string {
	t.Helper()
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("process %s: %v", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if uids, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Join(strings.Fields(uids), " ")
		}
	}
	t.Fatalf("process %s: no Uid line in its status", pid)
	return ""
}
