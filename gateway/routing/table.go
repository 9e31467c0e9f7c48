package routing

import (
	"cmp"
	"maps"
	"slices"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// Backend builds and tears down the parts behind a route (package main builds them from
// discovery, proxy, upstream and edge). The Table calls it under its own lock, one change at a
// time, and publishes a new route before it closes the one it replaces: a route whose policy
// changes (or that passes to another owner) serves on without a gap.
type Backend interface {
	// Open builds what serves spec; Publish then makes it reachable.
	Open(spec Spec) Opened
	// Publish makes the live routes reachable, in place of the ones published before.
	Publish(live []Live)
}

// Opened is what a Backend built for a route.
type Opened interface {
	// Close tears it down; it is no longer published.
	Close()
}

// Live is a route being served.
type Live struct {
	Spec   Spec
	Opened Opened
}

// Conflict is a route refused because another claims its method and public path.
type Conflict struct {
	Refused Spec
	Kept    Spec
}

// Invalid is a route tag that does not parse.
type Invalid struct {
	Service string
	Tag     string
	Err     string
}

// Table is the live set of routes: the routes file's and those the services declare in Consul.
// A route keeps its method and public path while its owner (its source and service) still
// claims it: the first stays, a later claim from another owner is a conflict.
type Table struct {
	backend  Backend
	defaults Defaults
	logger   hclog.Logger

	mu        sync.Mutex
	file      []Spec
	declared  []Spec // from the last catalog, services in name order, tags in order
	invalid   []Invalid
	live      map[string]Live // by Spec.Key
	conflicts []Conflict
}

// NewTable returns an empty Table.
func NewTable(backend Backend, def Defaults, logger hclog.Logger) *Table {
	return &Table{backend: backend, defaults: def, logger: logger, live: map[string]Live{}}
}

// SetFile replaces the routes of the routes file.
func (t *Table) SetFile(specs []Spec) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.file = slices.Clone(specs)
	t.apply()
}

// SetCatalog replaces the declared routes with those of catalog: each service's route tags
// (package routetag; other tags are ignored).
func (t *Table) SetCatalog(catalog map[string][]string) {
	var specs []Spec
	var invalid []Invalid
	for _, service := range slices.Sorted(maps.Keys(catalog)) {
		for _, tag := range catalog[service] {
			if !routetag.IsRoute(tag) {
				continue
			}
			d, err := routetag.Parse(tag)
			if err != nil {
				invalid = append(invalid, Invalid{Service: service, Tag: tag, Err: err.Error()})
				continue
			}
			specs = append(specs, FromDeclaration(service, d, t.defaults))
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, inv := range invalid {
		if !slices.Contains(t.invalid, inv) {
			t.logger.Warn("route tag refused", "service", inv.Service, "err", inv.Err)
		}
	}
	t.declared, t.invalid = specs, invalid
	t.apply()
}

// apply opens, closes and reopens routes so that the live set matches the claims: it opens the
// new routes, publishes, then closes the routes that went or were replaced.
func (t *Table) apply() {
	claims := append(slices.Clone(t.file), t.declared...)
	next := map[string]Spec{}
	// A live route stays with its owner while the owner claims it (its policy may change).
	for key, cur := range t.live {
		if i := slices.IndexFunc(claims, func(c Spec) bool { return c.Key() == key && sameOwner(c, cur.Spec) }); i >= 0 {
			// The same claim as before wins over a sibling of the same owner.
			if j := slices.Index(claims, cur.Spec); j >= 0 {
				i = j
			}
			next[key] = claims[i]
		}
	}
	var conflicts []Conflict
	for _, c := range claims {
		kept, taken := next[c.Key()]
		switch {
		case !taken:
			next[c.Key()] = c
		case kept != c:
			conflicts = append(conflicts, Conflict{Refused: c, Kept: kept})
		}
	}
	for _, c := range conflicts {
		if !slices.Contains(t.conflicts, c) {
			t.logger.Warn("route conflict: the first claim stays", "route", c.Refused.Key(),
				"kept", c.Kept.Claim(), "refused", c.Refused.Claim())
		}
	}
	t.conflicts = conflicts

	var retired []Live
	for _, key := range slices.Sorted(maps.Keys(t.live)) {
		if cur := t.live[key]; next[key] != cur.Spec {
			retired = append(retired, cur)
			delete(t.live, key)
		}
	}
	opened := false
	for _, key := range slices.Sorted(maps.Keys(next)) {
		if _, ok := t.live[key]; !ok {
			spec := next[key]
			t.live[key] = Live{Spec: spec, Opened: t.backend.Open(spec)}
			opened = true
			t.logger.Info("route added", "route", key, "service", spec.Service, "upstream", spec.Upstream, "source", spec.Source)
		}
	}
	if opened || len(retired) > 0 {
		t.backend.Publish(t.liveSorted())
	}
	for _, r := range retired {
		r.Opened.Close()
		if _, replaced := t.live[r.Spec.Key()]; !replaced {
			t.logger.Info("route removed", "route", r.Spec.Key(), "service", r.Spec.Service, "source", r.Spec.Source)
		}
	}
}

func (t *Table) liveSorted() []Live {
	out := slices.Collect(maps.Values(t.live))
	slices.SortFunc(out, func(a, b Live) int {
		return cmp.Or(cmp.Compare(a.Spec.Service, b.Spec.Service), cmp.Compare(a.Spec.Key(), b.Spec.Key()))
	})
	return out
}

func sameOwner(a, b Spec) bool { return a.Source == b.Source && a.Service == b.Service }

// Snapshot is the table as it is now, for the status page.
type Snapshot struct {
	Routes    []Spec // sorted by service, then key
	Conflicts []Conflict
	Invalid   []Invalid
}

// Snapshot returns the live routes, the refused claims and the tags that do not parse.
func (t *Table) Snapshot() Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	live := t.liveSorted()
	routes := make([]Spec, len(live))
	for i, l := range live {
		routes[i] = l.Spec
	}
	return Snapshot{Routes: routes, Conflicts: slices.Clone(t.conflicts), Invalid: slices.Clone(t.invalid)}
}

// Close unpublishes and closes every live route.
func (t *Table) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	live := t.liveSorted()
	t.live = map[string]Live{}
	t.backend.Publish(nil)
	for _, l := range live {
		l.Opened.Close()
	}
}
