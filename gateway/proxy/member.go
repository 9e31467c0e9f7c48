package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"
	"github.com/sony/gobreaker/v2"
)

// member is one instance endpoint of one route: the instance's client endpoint, its circuit
// breaker, and what its attempts showed (counters for the peer comparison, totals and the last
// error for the status page). The breaker is the one way an instance is ejected, whatever the
// reason: consecutive failures, or an outlier verdict of its group (see group.go).
type member struct {
	route, instance string
	added           time.Time
	group           *group
	call            endpoint.Endpoint // the instance's client endpoint
	breaker         *gobreaker.TwoStepCircuitBreaker[any]

	window windowCounters // this window's attempts, swapped out by the group's evaluation

	// flag is the group's last verdict on it ("" none, or a Reason...): its next attempt trips
	// the breaker. ejected holds a place under the group's cap from the trip until the breaker
	// closes again; wantsOut marks it as looking bad while the cap keeps it in.
	flag     atomic.Pointer[string]
	ejected  atomic.Bool
	wantsOut atomic.Bool
	until    atomic.Int64 // unix nanoseconds the current ejection lasts until; 0 none

	attempts, failures atomic.Uint64 // since it was added: what was sent, what counted against it

	mu          sync.Mutex // guards the fields below
	lastError   string
	lastErrorAt time.Time
	reason      string // of the current or last ejection (a Reason...)
	probeFailed bool   // the current ejection's probe failed (it stays out, for longer)
	ejections   int    // in a row (each lengthens the next); reset after a healthy MaxEjection
	closedAt    time.Time
	lastWindow  windowStats // the last evaluated window, for the status page

	// metrics, With'd once per member, not per attempt
	byOutcome [len(outcomeNames)]metrics.Counter
	duration  metrics.Histogram
}

// windowCounters accumulate the attempts of the current window.
type windowCounters struct {
	requests, failures, successes, latency atomic.Int64
}

func (w *windowCounters) add(o outcome, took time.Duration) {
	switch {
	case o.excluded():
		return
	case o.countsAgainstInstance():
		w.failures.Add(1)
	default:
		w.successes.Add(1)
		w.latency.Add(int64(took))
	}
	w.requests.Add(1)
}

func (w *windowCounters) swap() windowStats {
	return windowStats{
		Requests:  w.requests.Swap(0),
		Failures:  w.failures.Swap(0),
		Successes: w.successes.Swap(0),
		Latency:   time.Duration(w.latency.Swap(0)),
	}
}

func (w *windowCounters) peek() windowStats {
	return windowStats{Requests: w.requests.Load(), Failures: w.failures.Load()}
}

// pass is the right to send one attempt to a member: through its breaker (done reports the
// outcome to it), or past it while the group panics (done is nil).
type pass struct {
	done  func(error)
	probe bool // the breaker is half-open: this attempt tests whether the instance is back
}

// admit asks whether an attempt may go to m now.
func (m *member) admit(now time.Time) (pass, bool) {
	if m.group.panic.Load() {
		return pass{}, true
	}
	if until := m.until.Load(); until != 0 && now.UnixNano() < until {
		return pass{}, false
	}
	done, err := m.breaker.Allow()
	if err != nil {
		return pass{}, false
	}
	return pass{done: done, probe: m.ejected.Load()}, true
}

// attempt sends request to the instance under ctx (the attempt's own timeout) and records the
// outcome everywhere it counts.
func (m *member) attempt(ctx context.Context, p pass, request any) attemptResult {
	begin := time.Now()
	response, err := m.call(ctx, request)
	now := time.Now()
	took := now.Sub(begin)
	o := classify(ctx, err)
	if err != nil {
		// Say whose deadline ended it (the client sees only that the deadline passed).
		if cause := causeOf(ctx); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
	}

	m.duration.Observe(took.Seconds())
	m.byOutcome[o].Add(1)
	m.attempts.Add(1)
	if o.countsAgainstInstance() {
		m.failures.Add(1)
		m.mu.Lock()
		m.lastError, m.lastErrorAt = err.Error(), now
		m.mu.Unlock()
	}
	m.window.add(o, took)
	if p.done != nil {
		p.done(m.breakerVerdict(o, took, p.probe))
	}
	m.group.maybeEvaluate(now)
	return attemptResult{response: response, err: err, outcome: o, took: took, end: now}
}

// breakerVerdict is what the breaker is told of an attempt: nil a success, errExcluded nothing
// at all, any other error a failure (which may trip it, see group.readyToTrip). A timeout is
// left out of the consecutive count while the breaker is closed: an overload times out on every
// instance, a few in a row on one by chance; the window's comparison with the peers judges
// timeouts (a hung instance fails all its attempts beside peers that fail none).
func (m *member) breakerVerdict(o outcome, took time.Duration, probe bool) error {
	switch {
	case o.excluded():
		return errExcluded
	case m.flag.Load() != nil:
		return errOutlier
	case o == outcomeTimeout && !probe:
		return errExcluded
	case o.countsAgainstInstance():
		return errInstanceFailed
	case probe && slowerThanPeers(took, m.group.peerLatency(), m.group.outliers):
		return errSlowProbe
	default:
		return nil
	}
}

// setFlag records the group's verdict ("" clears it).
func (m *member) setFlag(reason string) {
	if reason == "" {
		m.flag.Store(nil)
		return
	}
	m.flag.Store(&reason)
}

func (m *member) flagged() string {
	if r := m.flag.Load(); r != nil {
		return *r
	}
	return ""
}

// opened starts an ejection when the breaker opens: each one in a row lasts longer (the
// breaker's open time × times ejected, at most MaxEjection), like Envoy's. It returns how long.
func (m *member) opened(now time.Time, base, longest time.Duration) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closedAt.IsZero() && now.Sub(m.closedAt) > longest {
		m.ejections = 0 // healthy long enough: start over
	}
	m.ejections++
	m.setFlag("") // judged again by its probe, then by its windows once back
	d := min(base*time.Duration(m.ejections), max(base, longest))
	m.until.Store(now.Add(d).UnixNano())
	return d
}

// ejectionReason says why m is (or was last) ejected, as the log and the status page show it.
// Called with m.mu held.
func (m *member) ejectionReason() string {
	if m.probeFailed {
		return m.reason + ", probe failed"
	}
	return m.reason
}

// closed ends an ejection: the breaker closed after a good probe.
func (m *member) closed(now time.Time) {
	m.mu.Lock()
	m.closedAt = now
	m.mu.Unlock()
	m.until.Store(0)
	m.ejected.Store(false)
	m.wantsOut.Store(false)
	m.setFlag("")
}

// endpoint is the member as a go-kit endpoint: one attempt through its breaker (the Endpointer
// holds these; the route's retrier goes through admit and attempt itself, to pick the next
// instance without sending anything to one whose breaker refuses).
func (m *member) endpoint(ctx context.Context, request any) (any, error) {
	p, ok := m.admit(time.Now())
	if !ok {
		return nil, errBreakerOpen
	}
	res := m.attempt(ctx, p, request)
	return res.response, res.err
}
