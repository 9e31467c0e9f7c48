package edge

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// quietLog is a FailureLog that writes nowhere.
func quietLog(t *testing.T) *FailureLog {
	l := NewFailureLog(hclog.NewNullLogger(), time.Hour)
	t.Cleanup(l.Close)
	return l
}

// A flood of failures is one line at once (the first, with its request ID) and then one
// summary line per route and status per interval, not a line each.
func TestFailureLogSumsUpAFlood(t *testing.T) {
	logger, logs := testkit.NewLogger(hclog.Info)
	l := NewFailureLog(logger, 50*time.Millisecond)
	for i := range 1000 {
		l.Failed("uppercase", 503, fmt.Sprintf("id-%d", i), errors.New("every instance's circuit breaker is open"))
	}
	l.Failed("count", 502, "id-count", errors.New("all 3 attempts failed"))
	testkit.Eventually(t, 5*time.Second, "the summary line", func() bool {
		return len(logs.Entries(t, "requests failed")) == 1
	})
	firsts := logs.Entries(t, "request failed")
	if len(firsts) != 2 || firsts[0]["request_id"] != "id-0" || firsts[1]["route"] != "count" {
		t.Fatalf("first occurrences = %v, want one line for each route, with its request ID", firsts)
	}
	summary := logs.Entries(t, "requests failed")[0]
	if summary["route"] != "uppercase" || summary["count"] != float64(999) || summary["last_request_id"] != "id-999" {
		t.Fatalf("summary = %v, want the 999 failures after the first, with the last request ID", summary)
	}
	l.Close()
	if n := len(logs.Entries(t, "")); n != 3 {
		t.Fatalf("%d lines in all, want 3: %v", n, logs.Messages(t))
	}
}

// After a quiet interval, the next failure is a first occurrence again.
func TestFailureLogLogsAFailureAfterAQuietIntervalAtOnce(t *testing.T) {
	logger, logs := testkit.NewLogger(hclog.Info)
	l := NewFailureLog(logger, 20*time.Millisecond)
	defer l.Close()
	l.Failed("uppercase", 502, "a", errors.New("refused"))
	testkit.Eventually(t, 5*time.Second, "the key is forgotten after a quiet interval", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.open) == 0
	})
	l.Failed("uppercase", 502, "b", errors.New("refused"))
	if got := logs.Entries(t, "request failed"); len(got) != 2 || got[1]["request_id"] != "b" {
		t.Fatalf("lines = %v, want b logged at once", got)
	}
}
