package discovery

import (
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// Declarations records which routes each instance of one service declares in its tags
// (package routetag), from the answers its Instancer reads: a route is sent only to the
// instances that declare it, so that during a rolling deploy a new method reaches only the
// instances that have it.
type Declarations struct {
	mu         sync.RWMutex
	byInstance map[string]map[string]bool // instance → "METHOD /path" declared
}

// NewDeclarations returns an empty record.
func NewDeclarations() *Declarations {
	return &Declarations{byInstance: map[string]map[string]bool{}}
}

// Record replaces the record with one Consul answer's instances.
func (d *Declarations) Record(entries []*api.ServiceEntry) {
	fresh := make(map[string]map[string]bool, len(entries))
	for _, e := range entries {
		keys := map[string]bool{}
		for _, tag := range e.Service.Tags {
			if decl, err := routetag.Parse(tag); err == nil {
				keys[decl.Key()] = true
			}
		}
		fresh[instanceName(e)] = keys
	}
	d.mu.Lock()
	d.byInstance = fresh
	d.mu.Unlock()
}

// Declares reports whether instance declared the route key ("POST /uppercase").
func (d *Declarations) Declares(instance, key string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.byInstance[instance][key]
}
