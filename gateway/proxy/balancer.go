package proxy

import (
	"sync/atomic"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
)

// roundRobin hands every request the instance endpoints in ring order, each request starting one
// place further round than the one before. Walking its own ring, a request's retry goes to the
// next instance rather than back to the one that just failed (go-kit's lb.RoundRobin shares one
// counter, so under concurrency a retry can land on the failed instance again); instances whose
// breaker is open are skipped by the retry loop at no cost.
type roundRobin struct {
	endpointer sd.Endpointer
	counter    atomic.Uint64
}

// ring returns the current endpoints and where this request starts in them.
func (rr *roundRobin) ring() ([]endpoint.Endpoint, int, error) {
	endpoints, err := rr.endpointer.Endpoints()
	if err != nil {
		return nil, 0, err
	}
	if len(endpoints) == 0 {
		return nil, 0, ErrNoInstances
	}
	start := rr.counter.Add(1) - 1
	return endpoints, int(start % uint64(len(endpoints))), nil
}
