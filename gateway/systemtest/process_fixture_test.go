//go:build integration

package systemtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// process is a program the test started, with its output captured line by line. It is stopped
// (by PID) when the test ends, and its output is printed if the test failed.
type process struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	exited chan struct{}
	err    error // exit status, valid once exited is closed
}

func startProcess(t *testing.T, name, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{name: name, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go p.collect(out)
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- output of %s (pid %d):\n%s", name, p.cmd.Process.Pid, strings.Join(p.output(), "\n"))
		}
	})
	return p
}

func (p *process) collect(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		p.mu.Unlock()
	}
	p.err = p.cmd.Wait()
	close(p.exited)
}

func (p *process) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, p.name, err)
	}
}

// kill stops the process if it still runs (resuming it first, should it be stopped).
func (p *process) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *process) waitExit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", p.name, timeout)
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// waitLogEntry polls the process's JSON log for a line whose @message is msg and returns it.
func (p *process) waitLogEntry(t *testing.T, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	var found map[string]any
	testkit.Eventually(t, timeout, fmt.Sprintf("%s logs %q", p.name, msg), func() bool {
		found = p.findLogEntry(msg, nil)
		return found != nil
	})
	return found
}

// findLogEntry returns the first JSON log line with @message msg whose fields include want.
func (p *process) findLogEntry(msg string, want map[string]string) map[string]any {
	for _, line := range p.output() {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil || entry["@message"] != msg {
			continue
		}
		matches := true
		for k, v := range want {
			matches = matches && fmt.Sprint(entry[k]) == v
		}
		if matches {
			return entry
		}
	}
	return nil
}
