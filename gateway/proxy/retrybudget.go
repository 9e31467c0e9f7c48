package proxy

import (
	"sync"
	"time"
)

// RetryBudgetSettings cap the extra attempts (retries and hedges) of a route at a share of its
// recent requests, so that retries cannot multiply an overload (Linkerd's and Finagle's budget:
// 20% of the requests of the last 10 s, plus 10 per second so that a quiet route can still retry).
type RetryBudgetSettings struct {
	Ratio        float64       // extra attempts per request
	MinPerSecond float64       // extra attempts always allowed, per second of the window
	Window       time.Duration // how far back requests count (whole seconds)
}

// DefaultRetryBudget is Linkerd's default.
func DefaultRetryBudget() RetryBudgetSettings {
	return RetryBudgetSettings{Ratio: 0.2, MinPerSecond: 10, Window: 10 * time.Second}
}

// retryBudget counts a route's requests and extra attempts in one-second buckets over the window.
type retryBudget struct {
	s       RetryBudgetSettings
	now     func() time.Time
	mu      sync.Mutex
	buckets []budgetBucket // ring, indexed by second % len
}

type budgetBucket struct {
	second            int64
	requests, retries float64
}

func newRetryBudget(s RetryBudgetSettings, now func() time.Time) *retryBudget {
	return &retryBudget{s: s, now: now, buckets: make([]budgetBucket, max(1, int(s.Window/time.Second)))}
}

// bucket returns the current second's bucket, emptied if it last held an older second. Called
// with b.mu held.
func (b *retryBudget) bucket() *budgetBucket {
	second := b.now().Unix()
	bk := &b.buckets[second%int64(len(b.buckets))]
	if bk.second != second {
		*bk = budgetBucket{second: second}
	}
	return bk
}

// request records a request (a deposit into the budget).
func (b *retryBudget) request() {
	b.mu.Lock()
	b.bucket().requests++
	b.mu.Unlock()
}

// tryRetry takes one extra attempt from the budget, if there is one left.
func (b *retryBudget) tryRetry() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left() < 1 {
		return false
	}
	b.bucket().retries++
	return true
}

// available returns the extra attempts the budget allows now.
func (b *retryBudget) available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(0, b.left())
}

// left is the allowance minus what was spent, over the window. Called with b.mu held.
func (b *retryBudget) left() float64 {
	oldest := b.now().Unix() - int64(len(b.buckets)) + 1
	var requests, retries float64
	for _, bk := range b.buckets {
		if bk.second >= oldest {
			requests, retries = requests+bk.requests, retries+bk.retries
		}
	}
	return b.s.Ratio*requests + b.s.MinPerSecond*float64(len(b.buckets)) - retries
}
