package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
)

// fakeInstancer is an sd.Instancer whose instance set the test sets.
type fakeInstancer struct {
	mu    sync.Mutex
	subs  []chan<- sd.Event
	state sd.Event
}

// Register sends the current state; like set, it returns only once the subscriber applied it.
func (f *fakeInstancer) Register(ch chan<- sd.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, ch)
	ch <- f.state
	ch <- f.state
}

func (f *fakeInstancer) Deregister(ch chan<- sd.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, sub := range f.subs {
		if sub == ch {
			f.subs = append(f.subs[:i], f.subs[i+1:]...)
			return
		}
	}
}

func (f *fakeInstancer) Stop() {}

// set publishes a new instance set (or a discovery error) and returns once every subscriber has
// applied it: go-kit's Endpointer reads events from an unbuffered channel in one loop, so a
// second send completes only after the first event was processed.
func (f *fakeInstancer) set(ev sd.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = ev
	for _, ch := range f.subs {
		ch <- ev
		ch <- ev
	}
}

// instanceBehavior says how a fake instance answers: it returns err (or echoes the request when
// err is nil), optionally after blocking until the attempt's context ends.
type instanceBehavior struct {
	err   error
	hang  bool
	delay time.Duration // before answering (or failing)
}

// fakeFleet is a set of fake instances whose behaviour tests change, and which records the
// order in which instances were called.
type fakeFleet struct {
	mu       sync.Mutex
	behavior map[string]instanceBehavior
	calls    []string
}

func newFleet() *fakeFleet { return &fakeFleet{behavior: map[string]instanceBehavior{}} }

func (f *fakeFleet) setBehavior(instance string, b instanceBehavior) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behavior[instance] = b
}

// takeCalls returns the instances called since the last takeCalls.
func (f *fakeFleet) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls := f.calls
	f.calls = nil
	return calls
}

// factory is a ClientFactory whose endpoints act out the fleet's behaviours; a working instance
// answers {"v":"<its name>"}.
func (f *fakeFleet) factory(instance string) (endpoint.Endpoint, io.Closer, error) {
	return func(ctx context.Context, request any) (any, error) {
		f.mu.Lock()
		f.calls = append(f.calls, instance)
		b := f.behavior[instance]
		f.mu.Unlock()
		if b.hang {
			<-ctx.Done()
			return nil, fmt.Errorf("%s: %w", instance, ctx.Err())
		}
		if b.delay > 0 {
			time.Sleep(b.delay) // like fasthttp: the context does not cut an attempt short
		}
		if b.err != nil {
			return nil, b.err
		}
		return payload([]byte(`{"v":"` + instance + `"}`)), nil
	}, nil, nil
}

// payload is what the fake instances answer: the request path passes it through untouched.
type payload []byte

// statusError is an instance's answer outside 2xx (StatusCoder), as package upstream's.
type statusError struct{ code int }

func (e *statusError) Error() string   { return fmt.Sprintf("instance answered %d", e.code) }
func (e *statusError) StatusCode() int { return e.code }

// newTestRoute builds a route over the given instances with deterministic settings.
func newTestRoute(t *testing.T, fleet *fakeFleet, policy RetryPolicy, instances ...string) (*Route, *fakeInstancer) {
	t.Helper()
	return newTestRouteWith(t, fleet, Settings{Breaker: BreakerSettings{Failures: 2, Open: time.Hour}, Retry: policy}, instances...)
}

// newTestRouteWith builds a route over the given instances with s (a null logger if none).
func newTestRouteWith(t *testing.T, fleet *fakeFleet, s Settings, instances ...string) (*Route, *fakeInstancer) {
	t.Helper()
	if s.Logger == nil {
		s.Logger = hclog.NewNullLogger()
	}
	inst := &fakeInstancer{state: sd.Event{Instances: instances}}
	route := NewRoute("stringsvc", "uppercase", inst, fleet.factory, s)
	t.Cleanup(route.Close)
	return route, inst
}

var (
	serverError = &statusError{code: http.StatusInternalServerError}
	clientError = &statusError{code: http.StatusBadRequest}
	quickPolicy = RetryPolicy{Idempotent: true, Attempts: 3, TryTimeout: time.Second, Budget: 5 * time.Second}
)

func call(route *Route) (any, error) {
	return route.Endpoint(context.Background(), payload([]byte(`{"s":"x"}`)))
}
