package proxy

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/metrics"
)

// The hedging defaults: a hedge goes out once an attempt is slower than the route's p95 of
// answered attempts, and never sooner than 10 ms.
const (
	DefaultHedgeQuantile = 0.95
	DefaultHedgeMinDelay = 10 * time.Millisecond
)

// RetryPolicy bounds the attempts of one request. On an idempotent route any attempt that failed
// without a 4xx answer may be repeated on another instance, and a slow one may be raced by a
// hedge; on another route only an attempt that cannot have reached its instance is repeated
// (NotDelivered), and none is hedged.
type RetryPolicy struct {
	// Idempotent: the route's requests may be processed twice without harm.
	Idempotent bool
	// Attempts is the most instances one request is sent to, hedges included.
	Attempts int
	// TryTimeout bounds each attempt; a timed-out attempt counts against that instance.
	TryTimeout time.Duration
	// Budget bounds the whole request: waiting for admission and every attempt.
	Budget time.Duration
	// Hedge sends the request to the next instance as well when an attempt has not been answered
	// after the hedge delay: the route's recent HedgeQuantile of answered attempts' latency, at
	// least HedgeMinDelay. The first answer wins; the others are abandoned: the request no
	// longer waits for them, but they run on to their own timeout (fasthttp cannot abort a
	// request in flight) and their outcome still counts for their instance, so that a hung or
	// slow instance is ejected even while hedges hide it from the clients.
	Hedge         bool
	HedgeMinDelay time.Duration
	HedgeQuantile float64
	// RetryBudget caps retries and hedges together.
	RetryBudget RetryBudgetSettings
}

// retrier sends each request of a route to the instances of its group in round-robin order,
// one further round for each request: retries go to the next instance, never straight back
// to the one that failed; instances whose breaker refuses are skipped without spending an
// attempt. go-kit's lb.Retry has only a total deadline, and runs attempts one after another.
type retrier struct {
	policy    RetryPolicy
	group     *group
	admission *Admission // the service's, or nil: hedges wait while requests queue for it
	counter   atomic.Uint64
	budget    *retryBudget
	latency   *latencyTracker

	retries, hedges, hedgesWon, budgetDenied metrics.Counter
	// totals for the status page
	hedgesSent, hedgesWonTotal, deniedTotal atomic.Uint64
}

// attemptResult is one attempt's end.
type attemptResult struct {
	response any
	err      error
	outcome  outcome
	took     time.Duration
	end      time.Time
	hedge    bool
}

// hedgeDelay is how long an attempt may go unanswered before a hedge is sent.
func (r *retrier) hedgeDelay() time.Duration {
	return max(r.policy.HedgeMinDelay, r.latency.get())
}

// saturated reports whether requests are waiting for admission to the service: a hedge would
// then take the place of one of them, adding load where there is no spare capacity (in a spike,
// hedges sent on the inflated p95 made a large share of the upstream requests).
func (r *retrier) saturated() bool {
	return r.admission != nil && r.admission.limiter.Queued() > 0
}

// serve is the route's endpoint below admission: ctx carries the request's budget.
func (r *retrier) serve(ctx context.Context, request any) (any, error) {
	ring := r.group.snapshot()
	if len(ring) == 0 {
		return nil, ErrNoInstances
	}
	r.budget.request()
	x := &exchange{r: r, ctx: ctx, request: request, ring: ring,
		start:   int((r.counter.Add(1) - 1) % uint64(len(ring))),
		results: make(chan int, r.policy.Attempts)}
	if r.policy.Attempts <= len(x.inline) {
		x.slots = x.inline[:r.policy.Attempts]
	} else {
		x.slots = make([]attemptResult, r.policy.Attempts)
	}
	return x.run()
}

// exchange is one request's attempts.
type exchange struct {
	r        *retrier
	ctx      context.Context
	request  any
	ring     []*member
	start    int
	visit    int // places of the ring looked at so far
	launched int
	pending  int
	// Each attempt writes its result to its slot, then sends the slot's index: a channel of
	// ints comes in one allocation, one of attemptResults in two.
	results chan int
	slots   []attemptResult
	inline  [3]attemptResult // the slots when Attempts is at most 3 (the default)
	timer   *time.Timer      // the hedge delay's or the budget's, from exchangeTimers once armed
	values  context.Context  // ctx's values without its cancellation, for the attempts
	// done is ctx's Done, unless ctx is a deadlineContext: then the timer, armed for the budget's
	// deadline when no hedge comes first, takes its place, and no other timer starts.
	done     <-chan struct{}
	deadline time.Time       // ctx's, or zero: none
	first    deadlineContext // the first attempt's
}

// exchangeTimers holds stopped timers for the hedge delay and the budget, reused from request to
// request: a new timer per request was three allocations of the few the request path makes.
var exchangeTimers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

func (x *exchange) run() (any, error) {
	defer x.stopTimer()
	policy := x.r.policy
	if lazy, ok := x.ctx.(*deadlineContext); ok {
		x.values, x.deadline = lazy.values, lazy.deadline
	} else {
		x.done = x.ctx.Done()
		x.deadline, _ = x.ctx.Deadline()
	}
	if !x.launchNext(false) {
		return nil, ErrAllBreakersOpen
	}
	timer := x.armTimer()
	var lastErr error
	budgetDenied, anyDelivered := false, false
	for {
		select {
		case i := <-x.results:
			res := x.slots[i]
			x.pending--
			if res.outcome == outcomeOK || res.outcome == outcomeClientError {
				x.r.latency.observe(res.took, res.end)
				if res.hedge {
					x.r.hedgesWon.Add(1)
					x.r.hedgesWonTotal.Add(1)
				}
				return res.response, res.err
			}
			lastErr = res.err
			reached := delivered(res.err)
			anyDelivered = anyDelivered || reached
			if x.ctx.Err() != nil {
				return nil, causeOf(x.ctx) // the budget ran out, or the caller went away
			}
			if res.outcome == outcomeCanceled {
				return nil, ErrBudgetExhausted // the attempt reached the budget's deadline a moment before ctx did
			}
			if x.launched < policy.Attempts && (policy.Idempotent || !reached) { // res failed, and not with a 4xx: worth another instance
				if !x.r.budget.tryRetry() {
					budgetDenied = true
					x.r.budgetDenied.Add(1)
					x.r.deniedTotal.Add(1)
				} else if x.launchNext(false) {
					x.r.retries.Add(1)
				}
			}
			if x.pending == 0 {
				return nil, &AttemptsError{Attempts: x.launched, Last: lastErr, BudgetDenied: budgetDenied, Delivered: anyDelivered}
			}
		case <-timer:
			if x.done == nil && x.ctx.Err() != nil {
				return nil, causeOf(x.ctx) // the budget ran out
			}
			if x.launched < policy.Attempts && x.launched < len(x.ring) && !x.r.saturated() && x.r.budget.tryRetry() && x.launchNext(true) {
				x.r.hedges.Add(1)
				x.r.hedgesSent.Add(1)
			}
			timer = x.armTimer()
		case <-x.done:
			return nil, causeOf(x.ctx)
		}
	}
}

// armTimer returns a channel that fires after the hedge delay, or at the budget's deadline if
// that comes first or no hedge may follow; nil when it need do neither (done covers the budget).
func (x *exchange) armTimer() <-chan time.Time {
	p := x.r.policy
	var wait time.Duration
	armed := p.Hedge && p.Idempotent && x.launched < p.Attempts && x.launched < len(x.ring)
	if armed {
		wait = x.r.hedgeDelay()
	}
	if x.done == nil && !x.deadline.IsZero() {
		if left := time.Until(x.deadline); !armed || left < wait {
			wait, armed = max(left, 0), true
		}
	}
	if !armed {
		return nil
	}
	if x.timer == nil {
		x.timer = exchangeTimers.Get().(*time.Timer)
	}
	x.timer.Reset(wait) // since Go 1.23 no tick of an earlier setting arrives after Reset
	return x.timer.C
}

// stopTimer gives the timer back, stopped (after Stop, its channel delivers nothing).
func (x *exchange) stopTimer() {
	if x.timer != nil {
		x.timer.Stop()
		exchangeTimers.Put(x.timer)
		x.timer = nil
	}
}

// launchNext starts an attempt on the next instance in the ring that admits one; false when
// none does (each place is looked at no more than Attempts times).
func (x *exchange) launchNext(hedge bool) bool {
	now := time.Now()
	for limit := len(x.ring) * x.r.policy.Attempts; x.visit < limit; {
		m := x.ring[(x.start+x.visit)%len(x.ring)]
		x.visit++
		if p, ok := m.admit(now); ok {
			x.launch(m, p, hedge, now)
			return true
		}
	}
	return false
}

// launch starts an attempt on m. Its context keeps the request's values but not its
// cancellation: it ends at its own timeout, or at the request's budget if that comes first.
func (x *exchange) launch(m *member, p pass, hedge bool, now time.Time) {
	deadline, cause := now.Add(x.r.policy.TryTimeout), errTryTimeout
	if !x.deadline.IsZero() && x.deadline.Before(deadline) {
		deadline, cause = x.deadline, ErrBudgetExhausted
	}
	if x.values == nil {
		x.values = context.WithoutCancel(x.ctx)
	}
	var ctx *deadlineContext
	if x.launched == 0 {
		ctx = &x.first // most requests make one attempt: its context comes with the exchange
	} else {
		ctx = new(deadlineContext)
	}
	ctx.values, ctx.deadline, ctx.cause = x.values, deadline, cause
	slot := x.launched
	x.launched++
	x.pending++
	go func() {
		res := m.attempt(ctx, p, x.request)
		res.hedge = hedge
		x.slots[slot] = res
		x.results <- slot
	}()
}
