package proxy

import (
	"math"
	"sync/atomic"
	"time"
)

// latencyTracker keeps a quantile of a route's recent attempt latencies for the hedge delay: a
// histogram of logarithmic buckets per window (atomic adds on the request path), whose quantile
// is computed when the window ends.
type latencyTracker struct {
	quantile float64
	window   time.Duration
	counts   [latencyBuckets]atomic.Int64
	total    atomic.Int64
	value    atomic.Int64 // the last window's quantile, ns; 0 until one window had samples
	next     atomic.Int64 // unix nanoseconds the window ends
}

// Buckets from 100 µs up, each 15% wider than the one before: 100 buckets reach about 100 s.
const (
	latencyBuckets = 100
	latencyBase    = 100 * time.Microsecond
	latencyGrowth  = 1.15
)

func newLatencyTracker(quantile float64, window time.Duration) *latencyTracker {
	return &latencyTracker{quantile: quantile, window: window}
}

func bucketOf(d time.Duration) int {
	if d <= latencyBase {
		return 0
	}
	return min(latencyBuckets-1, int(math.Log(float64(d)/float64(latencyBase))/math.Log(latencyGrowth))+1)
}

// upperBound is the largest latency bucket i holds.
func upperBound(i int) time.Duration {
	return time.Duration(float64(latencyBase) * math.Pow(latencyGrowth, float64(i)))
}

// observe adds one answered attempt's latency; at a window's end it computes the quantile.
func (t *latencyTracker) observe(d time.Duration, now time.Time) {
	t.counts[bucketOf(d)].Add(1)
	t.total.Add(1)
	next := t.next.Load()
	if now.UnixNano() >= next && t.next.CompareAndSwap(next, now.Add(t.window).UnixNano()) && next != 0 {
		t.roll()
	}
}

// roll computes the quantile of the window that ended and starts the next one.
func (t *latencyTracker) roll() {
	total := t.total.Swap(0)
	var counts [latencyBuckets]int64
	for i := range counts {
		counts[i] = t.counts[i].Swap(0)
	}
	if total < 20 {
		return // too few to say; keep the last value
	}
	rank := int64(math.Ceil(t.quantile * float64(total)))
	var seen int64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			t.value.Store(int64(upperBound(i)))
			return
		}
	}
}

// get returns the last window's quantile (0: none yet).
func (t *latencyTracker) get() time.Duration { return time.Duration(t.value.Load()) }
