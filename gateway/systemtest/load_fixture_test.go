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

// load is a steady concurrent stream of uppercase requests through the gateway, summed up as one
// loadResult: a recordedLoad whose requests have 10 s each.
type load struct{ *recordedLoad }

// startLoad runs workers concurrent clients for d (or until stop); the stream ends by itself at d
// plus at most one request's 10 s timeout.
func startLoad(g *gateway, workers int, d time.Duration) *load {
	return &load{startClients(g, workers, d, 10*time.Second)}
}

// wait returns the result once the stream has ended.
func (l *load) wait(t *testing.T) loadResult {
	t.Helper()
	samples := l.recordedLoad.wait(t)
	return window(samples, time.Time{}, l.ended.Add(time.Nanosecond))
}

// sample is one request of a recorded load.
type sample struct {
	begin   time.Time
	took    time.Duration
	failure string // "" when the answer was the expected one
}

// recordedLoad is a load like startLoad's, but every client has its own keep-alive connection and
// every request is kept with the time it began, so that a test can cut the run into phases.
type recordedLoad struct {
	done     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	samples  []sample
	ended    time.Time // when the last client returned; valid once done is closed
}

// startRecordedLoad runs clients concurrent clients, each an http.Client with a transport (so a
// keep-alive connection) of its own, for d or until stop. Every request has its own timeout
// (5 s, beyond the gateway's 1 s budget), so the load ends by itself at most that long after d;
// each client closes its connection when it ends.
func startRecordedLoad(g *gateway, clients int, d time.Duration) *recordedLoad {
	return startClients(g, clients, d, 5*time.Second)
}

// startClients is startRecordedLoad with requestTimeout for each request.
func startClients(g *gateway, clients int, d, requestTimeout time.Duration) *recordedLoad {
	l := &recordedLoad{done: make(chan struct{}), stopped: make(chan struct{})}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			transport := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer transport.CloseIdleConnections()
			client := &http.Client{Timeout: requestTimeout, Transport: transport}
			input := fmt.Sprintf("client %d", c)
			body, want := fmt.Sprintf(`{"s":%q}`, input), fmt.Sprintf(`{"v":%q}`, strings.ToUpper(input))
			var mine []sample
			for time.Now().Before(deadline) && !l.stopping() {
				begin := time.Now()
				failure := requestOnce(client, g.url+"/stringsvc/uppercase", body, want)
				mine = append(mine, sample{begin: begin, took: time.Since(begin), failure: failure})
			}
			l.mu.Lock()
			l.samples = append(l.samples, mine...)
			l.mu.Unlock()
		})
	}
	go func() {
		wg.Wait()
		l.ended = time.Now()
		close(l.done)
	}()
	return l
}

// stop ends the load before its duration is up (requests under way are finished).
func (l *recordedLoad) stop() { l.stopOnce.Do(func() { close(l.stopped) }) }

func (l *recordedLoad) stopping() bool {
	select {
	case <-l.stopped:
		return true
	default:
		return false
	}
}

// wait returns every request of the load once it has ended.
func (l *recordedLoad) wait(t *testing.T) []sample {
	t.Helper()
	<-l.done
	if len(l.samples) == 0 {
		t.Fatal("the load sent no request")
	}
	return l.samples
}

// window returns the result of the samples that began in [from, to).
func window(samples []sample, from, to time.Time) loadResult {
	var r loadResult
	for _, s := range samples {
		if s.begin.Before(from) || !s.begin.Before(to) {
			continue
		}
		r.requests++
		r.latencies = append(r.latencies, s.took)
		if s.failure != "" {
			r.failed++
			if len(r.failures) < 10 {
				r.failures = append(r.failures, s.failure)
			}
		}
	}
	slices.Sort(r.latencies)
	return r
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

// requireNoFailures fails the test if any request of the stream failed.
func requireNoFailures(t *testing.T, r loadResult) {
	t.Helper()
	t.Logf("load: %v", r)
	if r.failed > 0 {
		t.Fatalf("%d of %d requests failed; first: %v", r.failed, r.requests, r.failures)
	}
}
