package discovery

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/consul/api"
)

// Health is what discovery knows of Consul's health that the gateway's routing hides by design
// (it fails static): whether Consul answers (set by WatchCatalog), and which services Consul lists
// no passing instance of while their routes keep the last known ones (set by the instancers,
// through which it is a Recorder). The gateway exports both as metrics (package status). Its zero
// value says unreachable until the first answer, so that a gateway started before Consul says so.
type Health struct {
	reachable atomic.Bool
	mu        sync.Mutex
	noPassing map[string]bool
}

// Reachable reports whether the last query of the catalog got an answer.
func (h *Health) Reachable() bool { return h != nil && h.reachable.Load() }

// NoPassing reports whether Consul's last answer for service listed no passing instance while the
// gateway kept the last known ones.
func (h *Health) NoPassing(service string) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.noPassing[service]
}

// setReachable records the outcome of a query; a nil Health records nothing.
func (h *Health) setReachable(ok bool) {
	if h != nil {
		h.reachable.Store(ok)
	}
}

// Record notes that service's instances pass again (an answer with instances).
func (h *Health) Record(entries []*api.ServiceEntry) {
	h.setNoPassing(entries[0].Service.Service, false)
}

// RecordNoPassing notes that an answer with no passing instance of service was held back.
func (h *Health) RecordNoPassing(service string) { h.setNoPassing(service, true) }

func (h *Health) setNoPassing(service string, none bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.noPassing == nil {
		h.noPassing = map[string]bool{}
	}
	if none {
		h.noPassing[service] = true
	} else {
		delete(h.noPassing, service)
	}
}
