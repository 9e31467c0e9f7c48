//go:build integration

package systemtest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// dockerDaemon is a dockerd the test started inside its namespaces, with its state, sockets and
// containerd (which dockerd starts itself) in a directory of the test. The docker CLI reaches it
// through env (DOCKER_HOST). Its containers can only use host networking: no bridge, no iptables.
type dockerDaemon struct {
	proc    *process
	dir     string
	env     []string // of the docker CLI and scripts/build.sh
	cgroups []string // cgroup dirs that did not exist before the daemon: removed after it
	runDirs []string // dirs under /run that dockerd and containerd always use, if absent before
}

// startDockerd starts a dockerd of the test's own and waits until it answers. The test fails,
// not skips, when dockerd or docker is not installed (scripts/deps.sh system installs docker.io).
func startDockerd(t *testing.T) *dockerDaemon {
	t.Helper()
	dockerd, err := exec.LookPath("dockerd")
	if err == nil {
		_, err = exec.LookPath("docker")
	}
	if err != nil {
		t.Fatalf("docker is not installed (Debian package docker.io; scripts/deps.sh system installs it): %v", err)
	}
	dir := t.TempDir()
	// Containers go into a cgroup of this test's own name, through cgroupfs (never systemd's).
	parent := fmt.Sprintf("gokit-nomad-docker-%d", os.Getpid())
	d := &dockerDaemon{
		dir: dir,
		env: []string{
			"DOCKER_HOST=unix://" + filepath.Join(dir, "sock"),
			"DOCKER_CONFIG=" + filepath.Join(dir, "client"), // the CLI's config stays here too
		},
		cgroups: absentCgroups(parent, "docker"),
		runDirs: absentPaths("/run/docker", "/run/containerd"),
	}
	// The configuration file names the daemon's key, which otherwise goes to /etc/docker, and
	// keeps a host's /etc/docker/daemon.json out.
	config := filepath.Join(dir, "daemon.json")
	key, _ := json.Marshal(map[string]string{"deprecated-key-path": filepath.Join(dir, "key.json")})
	if err := os.WriteFile(config, key, 0o600); err != nil {
		t.Fatal(err)
	}
	d.proc = startProcess(t, "dockerd", dockerd, nil,
		"--config-file", config,
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+filepath.Join(dir, "sock"), "--pidfile", filepath.Join(dir, "pid"),
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
		"--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", "/"+parent,
		"--log-level", "warn")
	// Runs before startProcess's cleanup (LIFO): containers, images and the daemon go in order.
	t.Cleanup(func() { d.stop(t) })
	testkit.Eventually(t, 60*time.Second, "dockerd answers `docker info`", func() bool {
		if !d.proc.running() {
			t.Fatalf("dockerd exited: %v", d.proc.err)
		}
		_, err := d.docker("info")
		return err == nil
	})
	return d
}

// docker runs the docker CLI against the daemon (at most a minute) and returns its trimmed
// stdout; an error carries its stderr.
func (d *dockerDaemon) docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), d.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// must is docker that fails the test on an error.
func (d *dockerDaemon) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := d.docker(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// buildImages runs `scripts/build.sh images` against the daemon and returns what it printed.
// Nothing is downloaded: the Go modules are in the cache already (GOPROXY=off), and the images
// are FROM scratch.
func (d *dockerDaemon) buildImages(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "build.sh"), "images")
	cmd.Env = append(append(os.Environ(), d.env...), "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	begin := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build.sh images: %v\n%s%s", err, out, stderr.String())
	}
	t.Logf("scripts/build.sh images took %v", time.Since(begin).Round(100*time.Millisecond))
	return string(out)
}

// runContainer runs image detached on host networking as container name, with env (NAME=value)
// and args after the image's entrypoint. A failed test logs the container's output.
func (d *dockerDaemon) runContainer(t *testing.T, name, image string, env []string, args ...string) {
	t.Helper()
	run := []string{"run", "--detach", "--name", name, "--network", "host"}
	for _, e := range env {
		run = append(run, "--env", e)
	}
	d.must(t, append(append(run, image), args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			cmd := exec.Command("docker", "logs", name)
			cmd.Env = append(os.Environ(), d.env...)
			out, err := cmd.CombinedOutput()
			t.Logf("--- output of container %s (%v):\n%s", name, err, out)
		}
	})
}

// imageFiles lists the files of every layer of the image, from `docker image save`.
func (d *dockerDaemon) imageFiles(t *testing.T, image string) []string {
	t.Helper()
	cmd := exec.Command("docker", "image", "save", image)
	cmd.Env = append(os.Environ(), d.env...)
	saved, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker image save %s: %v", image, err)
	}
	// The archive holds manifest.json, naming the layers, and each layer as a tar of its own.
	entries := map[string][]byte{}
	archive := tar.NewReader(bytes.NewReader(saved))
	for {
		h, err := archive.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("docker image save %s: %v", image, err)
		}
		if h.Typeflag == tar.TypeReg {
			entries[h.Name], _ = io.ReadAll(archive)
		}
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("docker image save %s: manifest.json: %v (%d images)", image, err, len(manifest))
	}
	var files []string
	for _, layer := range manifest[0].Layers {
		r := tar.NewReader(bytes.NewReader(entries[layer]))
		for {
			h, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s of %s: %v", layer, image, err)
			}
			files = append(files, h.Name)
		}
	}
	slices.Sort(files)
	return files
}

// stop removes every container and image, stops the daemon by PID (SIGTERM, then SIGKILL after
// 30 s) and whatever it started, then removes what it left: mounts under its directory, the
// cgroups and the /run dirs it created. The directory itself goes with t.TempDir's cleanup, which
// fails the test if it cannot.
func (d *dockerDaemon) stop(t *testing.T) {
	if d.proc.running() {
		if err := d.removeContainers(); err != nil {
			t.Errorf("removing the containers: %v", err)
		}
		// Pruning removes the intermediate images of the builds too.
		if _, err := d.docker("image", "prune", "--all", "--force"); err != nil {
			t.Errorf("removing the images: %v", err)
		} else if left, err := d.docker("image", "ls", "--all", "--quiet"); err != nil || left != "" {
			t.Errorf("images left after docker image prune: %q (%v)", left, err)
		}
		started := descendants(d.proc.cmd.Process.Pid) // containerd and its shims
		_ = d.proc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.proc.exited:
		case <-time.After(30 * time.Second):
			t.Errorf("dockerd still running 30s after SIGTERM: killed")
			d.proc.kill()
		}
		for _, pid := range started {
			if alive(pid) {
				t.Logf("process %d that dockerd started outlived it: killed", pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	unmountUnder(t, d.dir)
	for _, dir := range d.cgroups {
		removeCgroup(t, dir)
	}
	for _, dir := range d.runDirs {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	}
}

// removeContainers removes every container (docker rm --force) and checks that none is left.
func (d *dockerDaemon) removeContainers() error {
	ids, err := d.docker("ps", "--all", "--quiet")
	if err != nil || ids == "" {
		return err
	}
	if _, err := d.docker(append([]string{"rm", "--force"}, strings.Fields(ids)...)...); err != nil {
		return err
	}
	if left, err := d.docker("ps", "--all", "--quiet"); err != nil || left != "" {
		return fmt.Errorf("containers left after docker rm: %q (%v)", left, err)
	}
	return nil
}

// absentPaths returns the paths that do not exist.
func absentPaths(paths ...string) []string {
	var absent []string
	for _, p := range paths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			absent = append(absent, p)
		}
	}
	return absent
}

// alive reports whether the process runs (it exists and is not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
	return !strings.HasPrefix(rest, " Z")
}
