//go:build integration

package systemtest

import (
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// faultAfter is when, in a load run, the fault is injected.
const faultAfter = 1500 * time.Millisecond

func TestKilledInstanceLosesNoRequests(t *testing.T) {
	s := startSystem(t)
	l := startLoad(s.gateway, 16, 5*time.Second)
	time.Sleep(faultAfter) // let the stream settle before the fault
	s.instances[0].proc.signal(t, syscall.SIGKILL)
	requireNoFailures(t, l.wait(t))
	s.consul.waitPassing(t, 2, 10*time.Second)
}

func TestHungInstanceLosesNoRequestsAndOpensItsBreaker(t *testing.T) {
	s := startSystem(t)
	hung := s.instances[0]
	l := startLoad(s.gateway, 16, 5*time.Second)
	time.Sleep(faultAfter)
	hung.proc.signal(t, syscall.SIGSTOP) // accepts connections (kernel backlog), never answers
	r := l.wait(t)
	requireNoFailures(t, r)
	if !s.gateway.breakerOpened("POST /stringsvc/uppercase", hung.addr) {
		t.Errorf("the breaker of %s did not open", hung.addr)
	}
	// A request waits at most for one attempt on the hung instance, and few requests do.
	if p99 := r.percentile(0.99); p99 > tryTimeout+100*time.Millisecond {
		t.Errorf("p99 = %v, want at most about the per-try timeout (%v)", p99, tryTimeout)
	}
}

func TestTerminatedInstanceLeavesConsulBeforeExitingAndLosesNoRequests(t *testing.T) {
	s := startSystem(t)
	leaving := s.instances[0]
	l := startLoad(s.gateway, 16, faultAfter+drain+3*time.Second)
	time.Sleep(faultAfter)
	leaving.proc.signal(t, syscall.SIGTERM)
	testkit.Eventually(t, 5*time.Second, "the instance leaves consul", func() bool {
		return !slices.Contains(s.consul.instanceIDs(t, false), leaving.id)
	})
	if !leaving.proc.running() {
		t.Error("the instance exited before it left consul")
	}
	if code := leaving.proc.waitExit(t, drain+15*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	requireNoFailures(t, l.wait(t))
}

func TestAllInstancesGoneFailsFast(t *testing.T) {
	s := startSystem(t)
	for _, in := range s.instances {
		in.proc.signal(t, syscall.SIGKILL)
	}
	// The gateway fails static (keeps the last known instances when Consul reports none), and
	// ejects none of them: they all fail alike, which is not one instance's fault. Each attempt
	// is refused at once, so the answer is a fast 503: no instance took the request, a client
	// may send it again (the retry budget bounds the attempts).
	testkit.Eventually(t, 5*time.Second, "the gateway answers 503", func() bool {
		status, _ := s.gateway.post(t, "/stringsvc/uppercase", `{"s":"gone"}`)
		return status == http.StatusServiceUnavailable
	})
	begin := time.Now()
	status, answer := s.gateway.post(t, "/stringsvc/uppercase", `{"s":"gone"}`)
	if took := time.Since(begin); status != http.StatusServiceUnavailable || took > tryTimeout {
		t.Fatalf("answer %d %s after %v, want a 503 without waiting for any timeout", status, answer, took)
	}
	if !strings.Contains(answer, "connection refused") {
		t.Errorf("answer %s, want the refused connection named", answer)
	}
}
