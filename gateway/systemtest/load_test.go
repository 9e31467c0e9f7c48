//go:build integration

package systemtest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// loadResult is what a steady stream of requests saw.
type loadResult struct {
	requests  int
	failures  []string // one line per failed request (status or error), first ones only
	failed    int
	latencies []time.Duration // sorted
}

func (r loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p))]
}

func (r loadResult) max() time.Duration { return r.percentile(1) }

func (r loadResult) String() string {
	return fmt.Sprintf("%d requests, %d failed, p50 %v, p99 %v, max %v",
		r.requests, r.failed, r.percentile(0.5), r.percentile(0.99), r.max())
}

// load is a steady concurrent stream of uppercase requests through the gateway, bounded by a
// duration (or ended earlier by stop); it checks every answer.
type load struct {
	done     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
	result   loadResult
}

// stop ends the stream before its duration is up.
func (l *load) stop() { l.stopOnce.Do(func() { close(l.stopped) }) }

func (l *load) stopping() bool {
	select {
	case <-l.stopped:
		return true
	default:
		return false
	}
}

// startLoad runs workers concurrent clients for d. Every request has its own 10 s timeout, so the
// stream ends by itself at d plus at most that.
func startLoad(g *gateway, workers int, d time.Duration) *load {
	l := &load{done: make(chan struct{}), stopped: make(chan struct{})}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers},
	}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			input := fmt.Sprintf("worker %d", w)
			want := fmt.Sprintf(`{"v":%q}`, strings.ToUpper(input))
			for time.Now().Before(deadline) && !l.stopping() {
				begin := time.Now()
				failure := requestOnce(client, g.url+"/stringsvc/uppercase", fmt.Sprintf(`{"s":%q}`, input), want)
				took := time.Since(begin)
				mu.Lock()
				l.result.requests++
				l.result.latencies = append(l.result.latencies, took)
				if failure != "" {
					l.result.failed++
					if len(l.result.failures) < 10 {
						l.result.failures = append(l.result.failures, failure)
					}
				}
				mu.Unlock()
			}
		})
	}
	go func() {
		wg.Wait()
		slices.Sort(l.result.latencies)
		close(l.done)
	}()
	return l
}

// requestOnce sends one request and returns "" when the answer is the expected one, else what
// went wrong.
func requestOnce(client *http.Client, url, body, want string) string {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error()
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(got)) != want {
		return fmt.Sprintf("%d %s", resp.StatusCode, got)
	}
	return ""
}

// wait returns the result once the stream has ended.
func (l *load) wait(t *testing.T) loadResult {
	t.Helper()
	<-l.done
	if l.result.requests == 0 {
		t.Fatal("the load sent no request")
	}
	return l.result
}

// requireNoFailures fails the test if any request of the stream failed.
func requireNoFailures(t *testing.T, r loadResult) {
	t.Helper()
	t.Logf("load: %v", r)
	if r.failed > 0 {
		t.Fatalf("%d of %d requests failed; first: %v", r.failed, r.requests, r.failures)
	}
}
