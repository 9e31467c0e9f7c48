package proxy

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// StatusBoard holds the live state of the routes that share it and of every instance endpoint of
// theirs: what the gateway's status page and its state gauges show. An endpoint enters when
// discovery adds its instance to a route and leaves when discovery removes it.
type StatusBoard struct {
	mu         sync.RWMutex
	endpoints  map[string]*member // by route@instance
	routes     []*Route
	admissions []*Admission
}

// NewStatusBoard returns an empty StatusBoard.
func NewStatusBoard() *StatusBoard {
	return &StatusBoard{endpoints: make(map[string]*member)}
}

// EndpointStatus is one instance endpoint of one route, as it is now.
type EndpointStatus struct {
	Service  string
	Route    string
	Instance string
	Added    time.Time // when discovery added the instance to the route
	// Breaker is the breaker's state: "closed", "half-open" or "open" (an ejection that outlasts
	// the breaker's own open time shows as open until it ends).
	Breaker string
	// ConsecutiveFailures are the breaker's count: it opens at BreakerSettings.Failures.
	ConsecutiveFailures uint32
	// Attempts and Failures count what was sent to the instance since it was added, and how much
	// of it counted against it.
	Attempts, Failures uint64
	// LastError is the last failure's message, at LastErrorAt (empty and zero: none yet).
	LastError   string
	LastErrorAt time.Time
	// Ejected: the instance is out of rotation, for EjectedReason (consecutive_failures,
	// failure_rate, latency; ", probe failed" when its probe failed), until EjectedUntil (then a
	// probe); Ejections counts its ejections in a row.
	Ejected       bool
	EjectedReason string
	EjectedUntil  time.Time
	Ejections     int
	// Flagged is the outlier verdict of the last window on an instance still in rotation
	// (the cap or panic mode keeps it in), or "".
	Flagged string
	// Window is the last evaluated window: attempts, share failed, mean latency of the answers.
	WindowRequests    int64
	WindowFailureRate float64
	WindowLatency     time.Duration
}

// RouteStatus is one route as it is now.
type RouteStatus struct {
	Service   string
	Route     string
	Instances int
	Ejected   int
	// Panic: too few instances look healthy; ejections are ignored.
	Panic bool
	// RetryBudgetLeft is how many retries and hedges the budget allows now.
	RetryBudgetLeft float64
	// RetryBudgetDenied counts the retries and hedges it refused since start.
	RetryBudgetDenied uint64
	// HedgeDelay is how long an attempt may go unanswered before a hedge (0: hedging off).
	HedgeDelay time.Duration
	// HedgesSent and HedgesWon count hedges since start, and those that answered first.
	HedgesSent, HedgesWon uint64
}

// Snapshot returns every instance endpoint, sorted by service, instance, then route.
func (r *StatusBoard) Snapshot() []EndpointStatus {
	r.mu.RLock()
	members := make([]*member, 0, len(r.endpoints))
	for _, m := range r.endpoints {
		members = append(members, m)
	}
	r.mu.RUnlock()
	now := time.Now()
	out := make([]EndpointStatus, 0, len(members))
	for _, m := range members {
		out = append(out, m.status(now))
	}
	slices.SortFunc(out, func(a, b EndpointStatus) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Instance, b.Instance), cmp.Compare(a.Route, b.Route))
	})
	return out
}

// Routes returns every route's state, in the order they were made.
func (r *StatusBoard) Routes() []RouteStatus {
	r.mu.RLock()
	routes := slices.Clone(r.routes)
	r.mu.RUnlock()
	out := make([]RouteStatus, 0, len(routes))
	for _, route := range routes {
		out = append(out, route.retrier.status())
	}
	return out
}

// Admissions returns the state of every service's admission control.
func (r *StatusBoard) Admissions() []AdmissionStatus {
	r.mu.RLock()
	admissions := slices.Clone(r.admissions)
	r.mu.RUnlock()
	out := make([]AdmissionStatus, 0, len(admissions))
	for _, a := range admissions {
		out = append(out, a.Status())
	}
	return out
}

// AddAdmission lists a service's admission control.
func (r *StatusBoard) AddAdmission(a *Admission) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.admissions = append(r.admissions, a)
}

// RemoveAdmission takes a service's admission control off the board.
func (r *StatusBoard) RemoveAdmission(a *Admission) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.admissions = slices.DeleteFunc(r.admissions, func(x *Admission) bool { return x == a })
}

func (r *StatusBoard) addRoute(route *Route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes = append(r.routes, route)
}

func (r *StatusBoard) removeRoute(route *Route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes = slices.DeleteFunc(r.routes, func(x *Route) bool { return x == route })
}

func (r *StatusBoard) add(m *member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endpoints[m.route+"@"+m.instance] = m
}

// remove drops m, unless the instance was added again since (then the key holds the new one).
func (r *StatusBoard) remove(m *member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if key := m.route + "@" + m.instance; r.endpoints[key] == m {
		delete(r.endpoints, key)
	}
}

func (m *member) status(now time.Time) EndpointStatus {
	m.mu.Lock()
	st := EndpointStatus{
		Service:           m.group.service,
		Route:             m.route,
		Instance:          m.instance,
		Added:             m.added,
		LastError:         m.lastError,
		LastErrorAt:       m.lastErrorAt,
		Ejections:         m.ejections,
		WindowRequests:    m.lastWindow.Requests,
		WindowFailureRate: m.lastWindow.failureRate(),
		WindowLatency:     m.lastWindow.meanLatency(),
	}
	reason := m.ejectionReason()
	m.mu.Unlock()
	state := m.breaker.State()
	st.Breaker = state.String()
	st.ConsecutiveFailures = m.breaker.Counts().ConsecutiveFailures
	st.Attempts, st.Failures = m.attempts.Load(), m.failures.Load()
	if m.ejected.Load() {
		st.Ejected, st.EjectedReason = true, reason
		if until := m.until.Load(); until != 0 {
			st.EjectedUntil = time.Unix(0, until)
			if now.Before(st.EjectedUntil) {
				st.Breaker = gobreaker.StateOpen.String()
			}
		}
	} else {
		st.Flagged = m.flagged()
	}
	return st
}

func (r *retrier) status() RouteStatus {
	members := r.group.snapshot()
	st := RouteStatus{
		Service:           r.group.service,
		Route:             r.group.route,
		Instances:         len(members),
		Panic:             r.group.panic.Load(),
		RetryBudgetLeft:   r.budget.available(),
		RetryBudgetDenied: r.deniedTotal.Load(),
		HedgesSent:        r.hedgesSent.Load(),
		HedgesWon:         r.hedgesWonTotal.Load(),
	}
	if r.policy.Hedge {
		st.HedgeDelay = r.hedgeDelay()
	}
	for _, m := range members {
		if m.ejected.Load() {
			st.Ejected++
		}
	}
	return st
}
