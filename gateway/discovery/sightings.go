package discovery

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// Sightings records when Consul last listed each instance as passing, for the status page. A
// blocking query returns at least every -consul-wait, so while Consul is reachable an instance it
// lists is never seen longer ago than that; a sighting that grows older tells that Consul has
// stopped listing the instance, or that the gateway cannot reach Consul.
type Sightings struct {
	mu   sync.Mutex
	last map[string]time.Time
	now  func() time.Time
}

// NewSightings returns an empty record.
func NewSightings() *Sightings {
	return &Sightings{last: make(map[string]time.Time), now: time.Now}
}

// LastSeen returns when Consul last listed instance ("host:port", as the Instancer names it).
func (s *Sightings) LastSeen(instance string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.last[instance]
	return t, ok
}

// forgetAfter is how long an instance Consul no longer lists stays in the record: long enough for
// the status page to show a stale sighting, short enough that instances come and go (a Nomad
// deploy brings new ports) without the record growing.
const forgetAfter = time.Hour

// Record notes every instance of one Consul answer as seen now (nil s: nowhere), and forgets the
// instances not seen for forgetAfter.
func (s *Sightings) Record(entries []*api.ServiceEntry) {
	if s == nil || len(entries) == 0 {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.last[instanceName(e)] = now
	}
	for instance, seen := range s.last {
		if now.Sub(seen) > forgetAfter {
			delete(s.last, instance)
		}
	}
}

// instanceName names an entry the way go-kit's consul Instancer does: the service's address (the
// node's when the service has none) and port.
func instanceName(e *api.ServiceEntry) string {
	var addr string
	if e.Node != nil {
		addr = e.Node.Address
	}
	if e.Service.Address != "" {
		addr = e.Service.Address
	}
	return fmt.Sprintf("%s:%d", addr, e.Service.Port)
}
