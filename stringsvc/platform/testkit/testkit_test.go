package testkit

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestLogsAreReadWhileOthersWrite(t *testing.T) {
	logger, logs := NewLogger(hclog.Info)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { logger.Info("hello", "k", 1); logger.Debug("hidden") })
	}
	Eventually(t, 5*time.Second, "4 lines are logged", func() bool { return len(logs.Entries(t, "hello")) == 4 })
	wg.Wait()
	if got := logs.Messages(t); !slices.Equal(got, []string{"info: hello", "info: hello", "info: hello", "info: hello"}) {
		t.Fatalf("messages = %v, want 4 × info: hello (debug filtered)", got)
	}
}

func TestMetricValue(t *testing.T) {
	exposition := "# TYPE a counter\na{x=\"1\"} 3\na{x=\"10\"} 7.5\nb 2\n"
	for series, want := range map[string]float64{`a{x="1"}`: 3, `a{x="10"}`: 7.5, "b": 2, `a{x="2"}`: -1, "a": -1} {
		if got := MetricValue(exposition, series); got != want {
			t.Errorf("MetricValue(%s) = %v, want %v", series, got, want)
		}
	}
}
