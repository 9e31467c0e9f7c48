// Package routing decides which routes the gateway serves: the routes services declare in their
// Consul registration (route tags, package routetag) merged with an optional static routes file
// (HCL), each with its policy (the gateway's defaults overridden per route). A Table keeps the
// live set as both change: it opens and closes routes through a Backend, and when two
// declarations claim one method and path the first stays and the conflict is logged and listed.
package routing

import (
	"cmp"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// Policy is how the gateway treats one route's requests.
type Policy struct {
	// Idempotent requests may be retried after they reached an instance, and hedged; the
	// others only when no attempt can have reached one.
	Idempotent bool
	Attempts   int
	TryTimeout time.Duration
	Budget     time.Duration
	Hedge      bool  // only on idempotent routes
	BodyLimit  int64 // largest request body, bytes
}

// Spec is one route: a method and public path served by a service's instances at an upstream
// path, with its policy.
type Spec struct {
	Method   string
	Path     string // public path, e.g. /stringsvc/uppercase
	Service  string // Consul service
	Upstream string // path on the instances, e.g. /uppercase
	Policy   Policy
	// Source is where the route comes from: "consul" (declared by the service), or the routes
	// file's path.
	Source string
}

// SourceConsul is the Source of the routes services declare.
const SourceConsul = "consul"

// Key is the route's method and public path, "POST /stringsvc/uppercase": the route label of
// the gateway's metrics.
func (s Spec) Key() string { return s.Method + " " + s.Path }

// Claim says whose claim on the route s is: "service stringsvc at /uppercase (consul)".
func (s Spec) Claim() string {
	return "service " + s.Service + " at " + s.Upstream + " (" + s.Source + ")"
}

// Declared reports whether the service declared the route itself: then only the instances
// that declare it serve it (discovery.Declarations), keyed by DeclarationKey.
func (s Spec) Declared() bool { return s.Source == SourceConsul }

// DeclarationKey is the route as its instances declare it: "POST /uppercase".
func (s Spec) DeclarationKey() string { return s.Method + " " + s.Upstream }

// Defaults are the gateway's policy for what a route does not set (its flags). Idempotent is
// not among them: it follows the method (routetag.IdempotentMethod). BodyLimit is also the most
// a route may declare: the HTTP server reads no more.
type Defaults struct {
	Attempts   int
	TryTimeout time.Duration
	Budget     time.Duration
	Hedge      bool
	BodyLimit  int64
}

// FromDeclaration is the route a service declares with one tag: served at /<service><path>.
func FromDeclaration(service string, d routetag.Declaration, def Defaults) Spec {
	return Spec{
		Method:   d.Method,
		Path:     "/" + service + d.Path,
		Service:  service,
		Upstream: d.Path,
		Policy:   def.policy(d),
		Source:   SourceConsul,
	}
}

// policy is d's options over the defaults.
func (def Defaults) policy(d routetag.Declaration) Policy {
	p := Policy{
		Idempotent: d.IsIdempotent(),
		Attempts:   cmp.Or(d.Attempts, def.Attempts),
		TryTimeout: cmp.Or(d.TryTimeout, def.TryTimeout),
		Budget:     cmp.Or(d.Budget, def.Budget),
		Hedge:      def.Hedge,
		BodyLimit:  min(cmp.Or(d.BodyLimit, def.BodyLimit), def.BodyLimit),
	}
	if d.Hedge != nil {
		p.Hedge = *d.Hedge
	}
	p.Hedge = p.Hedge && p.Idempotent
	p.Budget = max(p.Budget, p.TryTimeout) // a budget shorter than one attempt would cut every attempt short
	return p
}
