// Package testkit holds what the tests of both binaries share (like net/http/httptest, it is
// imported by tests only): polling for a condition with a deadline, an hclog logger whose JSON
// lines a test can read while other goroutines log, and reading one series of a Prometheus text
// exposition.
package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Eventually polls cond every 10 ms until it holds, failing the test after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Logs collects the JSON lines of a logger from NewLogger.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLogger returns a JSON hclog.Logger at level and the Logs it writes to.
func NewLogger(level hclog.Level) (hclog.Logger, *Logs) {
	logs := &Logs{}
	return hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true, Level: level}), logs
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Entries returns the logged lines whose message is msg ("": every line), decoded.
func (l *Logs) Entries(t testing.TB, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if msg == "" || e["@message"] == msg {
			found = append(found, e)
		}
	}
	return found
}

// Messages returns every logged line as "level: message".
func (l *Logs) Messages(t testing.TB) []string {
	t.Helper()
	var msgs []string
	for _, e := range l.Entries(t, "") {
		msgs = append(msgs, fmt.Sprintf("%s: %s", e["@level"], e["@message"]))
	}
	return msgs
}

// MetricValue returns the value of the series named exactly so (name and labels, as Prometheus
// writes them: labels sorted) in a text exposition, or -1 when it is absent.
func MetricValue(exposition, series string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				return v
			}
		}
	}
	return -1
}
