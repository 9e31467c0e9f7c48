package proxy

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Registry holds the live state of every instance endpoint of the routes that share it: what the
// gateway's status page and its breaker-state gauge show. An endpoint enters when discovery adds
// its instance to a route and leaves when discovery removes it.
type Registry struct {
	mu        sync.RWMutex
	endpoints map[string]*endpointState // by route@instance
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{endpoints: make(map[string]*endpointState)}
}

// EndpointStatus is one instance endpoint of one route, as it is now.
type EndpointStatus struct {
	Route    string
	Instance string
	Added    time.Time // when discovery added the instance to the route
	// Breaker is the breaker's state: "closed", "half-open" or "open".
	Breaker string
	// ConsecutiveFailures are the breaker's count: it opens at BreakerSettings.Failures.
	ConsecutiveFailures uint32
	// Attempts and Failures count what was sent to the instance since it was added, and how much
	// of it counted against its breaker.
	Attempts, Failures uint64
	// LastError is the last failure's message, at LastErrorAt (empty and zero: none yet).
	LastError   string
	LastErrorAt time.Time
}

// Snapshot returns every instance endpoint, sorted by instance, then route.
func (r *Registry) Snapshot() []EndpointStatus {
	r.mu.RLock()
	states := make([]*endpointState, 0, len(r.endpoints))
	for _, st := range r.endpoints {
		states = append(states, st)
	}
	r.mu.RUnlock()
	out := make([]EndpointStatus, 0, len(states))
	for _, st := range states {
		out = append(out, st.status())
	}
	slices.SortFunc(out, func(a, b EndpointStatus) int {
		return cmp.Or(cmp.Compare(a.Instance, b.Instance), cmp.Compare(a.Route, b.Route))
	})
	return out
}

func (r *Registry) add(st *endpointState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endpoints[st.route+"@"+st.instance] = st
}

// remove drops st, unless the instance was added again since (then the key holds the new state).
func (r *Registry) remove(st *endpointState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if key := st.route + "@" + st.instance; r.endpoints[key] == st {
		delete(r.endpoints, key)
	}
}

// endpointState is one instance endpoint's record, written by its requests.
type endpointState struct {
	route, instance string
	added           time.Time
	breaker         *gobreaker.TwoStepCircuitBreaker[any]
	attempts        atomic.Uint64
	failures        atomic.Uint64
	mu              sync.Mutex
	lastError       string
	lastErrorAt     time.Time
}

// failed records a failure that counted against the instance.
func (st *endpointState) failed(err error) {
	st.failures.Add(1)
	st.mu.Lock()
	st.lastError, st.lastErrorAt = err.Error(), time.Now()
	st.mu.Unlock()
}

func (st *endpointState) status() EndpointStatus {
	st.mu.Lock()
	lastError, lastErrorAt := st.lastError, st.lastErrorAt
	st.mu.Unlock()
	return EndpointStatus{
		Route:               st.route,
		Instance:            st.instance,
		Added:               st.added,
		Breaker:             st.breaker.State().String(),
		ConsecutiveFailures: st.breaker.Counts().ConsecutiveFailures,
		Attempts:            st.attempts.Load(),
		Failures:            st.failures.Load(),
		LastError:           lastError,
		LastErrorAt:         lastErrorAt,
	}
}
