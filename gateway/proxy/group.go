package proxy

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/hashicorp/go-hclog"
	"github.com/sony/gobreaker/v2"
)

// Errors a member tells its breaker (they never leave the package).
var (
	errExcluded       = errors.New("outcome excluded from breaker counts") // the caller gave up, the budget ran out, a hedge won, or the request never left
	errInstanceFailed = errors.New("the instance failed the attempt")
	errOutlier        = errors.New("the instance is an outlier among its peers")
	errSlowProbe      = errors.New("the probe was answered far slower than the peers answer")
)

// group is the instances of one route judged together: their outlier detection (every
// Interval, each instance's failure rate and mean latency against its peers'), the cap on how
// many are ejected at once, and panic mode. It holds the route's members in instance order.
type group struct {
	service  string
	route    string
	outliers OutlierSettings
	breaker  BreakerSettings
	logger   hclog.Logger
	m        Metrics

	members atomic.Pointer[[]*member] // copy on write, sorted by instance
	panic   atomic.Bool
	peers   atomic.Int64 // median mean latency of the members with traffic in the last window (ns)

	nextEval atomic.Int64 // unix nanoseconds of the next evaluation
	mu       sync.Mutex   // serialises membership changes, evaluations and ejections
}

func newGroup(service, route string, o OutlierSettings, b BreakerSettings, m Metrics, logger hclog.Logger) *group {
	g := &group{service: service, route: route, outliers: o, breaker: b, m: m, logger: logger}
	g.members.Store(&[]*member{})
	return g
}

// snapshot returns the current members, in instance order (do not modify).
func (g *group) snapshot() []*member { return *g.members.Load() }

func (g *group) peerLatency() time.Duration { return time.Duration(g.peers.Load()) }

// add puts m into the group.
func (g *group) add(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	next := append(slices.Clone(g.snapshot()), m)
	slices.SortFunc(next, func(a, b *member) int { return cmp.Compare(a.instance, b.instance) })
	g.members.Store(&next)
	g.updatePanic(next)
}

func (g *group) remove(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(g.snapshot()), func(x *member) bool { return x == m })
	g.members.Store(&next)
	g.updatePanic(next)
}

// newMember builds the member of instance on this route around its client endpoint, with its
// breaker; add puts it into the group.
func (g *group) newMember(instance string, call endpoint.Endpoint) *member {
	m := &member{route: g.route, instance: instance, added: time.Now(), group: g, call: call}
	m.breaker = gobreaker.NewTwoStepCircuitBreaker[any](gobreaker.Settings{
		Name:        g.route + "@" + instance,
		MaxRequests: 1,
		Timeout:     g.breaker.Open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return g.readyToTrip(m, c) },
		IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			g.transition(m, from, to)
		},
	})
	for o := range outcomeNames {
		m.byOutcome[o] = g.m.Attempts.With("route", g.route, "upstream", instance, "outcome", outcomeNames[o])
	}
	m.duration = g.m.AttemptDuration.With("route", g.route, "upstream", instance)
	return m
}

// readyToTrip is each breaker's trip rule, called on a failure in the closed state: the group's
// verdict on the member, or Failures consecutive failures while its peers do well; and in both
// cases only if the cap leaves room. It runs under the member's breaker lock: it reads the
// other members' atomics, never their breakers.
func (g *group) readyToTrip(m *member, c gobreaker.Counts) bool {
	reason := m.flagged()
	if reason == "" && c.ConsecutiveFailures >= g.breaker.Failures && g.peersDoWell(m) {
		reason = ReasonConsecutiveFailures
	}
	if reason == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	members := g.snapshot()
	ejected := 0
	for _, x := range members {
		if x.ejected.Load() {
			ejected++
		}
	}
	if g.panic.Load() || ejected >= maxEjected(len(members), g.outliers) {
		if !m.wantsOut.Swap(true) {
			g.updatePanic(members)
		}
		return false
	}
	m.ejected.Store(true)
	m.mu.Lock()
	m.reason, m.probeFailed = reason, false
	m.mu.Unlock()
	return true
}

// peersDoWell reports whether m's peers fail less than a tenth of their attempts in the current
// window: when they fail too, even much less than m does, the fault is likelier not m's (an
// overload's timeouts land on every instance, a few in a row on one by chance); the window's
// failure-rate comparison is left to judge it.
func (g *group) peersDoWell(m *member) bool {
	var requests, failures int64
	for _, x := range g.snapshot() {
		if x == m {
			continue
		}
		w := x.window.peek()
		requests, failures = requests+w.Requests, failures+w.Failures
	}
	return requests > 0 && failures*10 < requests
}

// transition logs a breaker's state change, counts it, and starts or ends an ejection.
func (g *group) transition(m *member, from, to gobreaker.State) {
	now := time.Now()
	m.mu.Lock()
	if to == gobreaker.StateOpen && from == gobreaker.StateHalfOpen {
		m.probeFailed = true
	}
	reason, described := m.reason, m.ejectionReason()
	m.mu.Unlock()
	args := []any{"breaker", m.breaker.Name(), "from", from.String(), "to", to.String()}
	switch to {
	case gobreaker.StateOpen:
		d := m.opened(now, g.breaker.Open, g.outliers.MaxEjection)
		args = append(args, "reason", described, "ejected_for", d.String())
		g.m.Ejections.With("route", g.route, "upstream", m.instance, "reason", reason).Add(1)
	case gobreaker.StateClosed:
		m.closed(now)
	}
	g.logger.Warn("circuit breaker state changed", args...)
	g.m.BreakerTransitions.With("route", g.route, "upstream", m.instance, "from", from.String(), "to", to.String()).Add(1)
}

// maybeEvaluate judges the members when the window has ended; one caller does it.
func (g *group) maybeEvaluate(now time.Time) {
	next := g.nextEval.Load()
	if now.UnixNano() < next || !g.nextEval.CompareAndSwap(next, now.Add(g.outliers.Interval).UnixNano()) {
		return
	}
	if next == 0 {
		return // the first window starts now
	}
	g.evaluate()
}

// evaluate ends the window: each member's verdict against its peers, the peers' latency for
// judging probes, and panic mode.
func (g *group) evaluate() {
	g.mu.Lock()
	defer g.mu.Unlock()
	members := g.snapshot()
	windows := make([]windowStats, len(members))
	for i, m := range members {
		windows[i] = m.window.swap()
	}
	verdicts := judge(windows, g.outliers)
	var latencies []time.Duration
	for i, m := range members {
		m.mu.Lock()
		m.lastWindow = windows[i]
		m.mu.Unlock()
		if !m.ejected.Load() {
			m.setFlag(verdicts[i])
			if verdicts[i] == "" && windows[i].failureRate() < 0.5 {
				m.wantsOut.Store(false)
			}
		}
		if windows[i].Successes >= g.outliers.MinRequests && verdicts[i] == "" && !m.ejected.Load() {
			latencies = append(latencies, windows[i].meanLatency())
		}
	}
	if len(latencies) > 0 {
		g.peers.Store(int64(median(latencies)))
	}
	g.updatePanic(members)
}

// updatePanic sets panic mode from how many members are ejected or look bad. Called with g.mu.
func (g *group) updatePanic(members []*member) {
	bad := 0
	for _, m := range members {
		if m.ejected.Load() || m.wantsOut.Load() {
			bad++
		}
	}
	now := panicking(bad, len(members), g.outliers) && len(members) > 1
	if g.panic.Swap(now) != now {
		if now {
			g.logger.Warn("panic mode: too few instances look healthy; ejections are ignored", "instances", len(members), "looking_bad", bad)
		} else {
			g.logger.Info("panic mode over")
		}
	}
}
