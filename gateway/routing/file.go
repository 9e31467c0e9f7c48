package routing

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsimple"

	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// The routes file lists routes for services that cannot declare their own, in HCL:
//
//	route "POST /legacy/echo" {
//	  service     = "echosvc"   # Consul service (required)
//	  path        = "/echo"     # upstream path (default: the public path)
//	  idempotent  = false       # default: by the method
//	  attempts    = 2
//	  try_timeout = "200ms"
//	  budget      = "1s"
//	  hedge       = false
//	  body_limit  = "64KiB"
//	}
//
// Options left out take the gateway's defaults, as in a route tag.
type routesFile struct {
	Routes []fileRoute `hcl:"route,block"`
}

type fileRoute struct {
	Key        string  `hcl:"key,label"`
	Service    string  `hcl:"service"`
	Path       string  `hcl:"path,optional"`
	Idempotent *bool   `hcl:"idempotent,optional"`
	Attempts   int     `hcl:"attempts,optional"`
	TryTimeout string  `hcl:"try_timeout,optional"`
	Budget     string  `hcl:"budget,optional"`
	Hedge      *bool   `hcl:"hedge,optional"`
	BodyLimit  *string `hcl:"body_limit,optional"`
}

// LoadFile reads a routes file. Any mistake refuses the whole file, with one line naming it.
func LoadFile(path string, def Defaults) ([]Spec, error) {
	var f routesFile
	if err := hclsimple.DecodeFile(path, nil, &f); err != nil {
		return nil, fmt.Errorf("routes file: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	specs := make([]Spec, 0, len(f.Routes))
	seen := map[string]bool{}
	for _, r := range f.Routes {
		spec, err := r.spec(path, def)
		if err != nil {
			return nil, fmt.Errorf("routes file %s: route %q: %w", path, r.Key, err)
		}
		if seen[spec.Key()] {
			return nil, fmt.Errorf("routes file %s: route %q is listed twice", path, r.Key)
		}
		seen[spec.Key()] = true
		specs = append(specs, spec)
	}
	return specs, nil
}

func (r fileRoute) spec(source string, def Defaults) (Spec, error) {
	method, public, ok := strings.Cut(r.Key, " ")
	if !ok {
		return Spec{}, fmt.Errorf(`want a label "<METHOD> <public path>"`)
	}
	if err := routetag.CheckRoute(method, public); err != nil {
		return Spec{}, err
	}
	if r.Service == "" {
		return Spec{}, fmt.Errorf("service is empty")
	}
	d := routetag.Declaration{Method: method, Path: public, Idempotent: r.Idempotent, Hedge: r.Hedge, Attempts: r.Attempts}
	if r.Path != "" {
		if err := routetag.CheckRoute(method, r.Path); err != nil {
			return Spec{}, err
		}
		d.Path = r.Path
	}
	if r.Attempts < 0 {
		return Spec{}, fmt.Errorf("attempts must be at least 1")
	}
	var err error
	if r.TryTimeout != "" {
		if d.TryTimeout, err = routetag.ParseDuration(r.TryTimeout); err != nil {
			return Spec{}, fmt.Errorf("try_timeout: %w", err)
		}
	}
	if r.Budget != "" {
		if d.Budget, err = routetag.ParseDuration(r.Budget); err != nil {
			return Spec{}, fmt.Errorf("budget: %w", err)
		}
	}
	if r.BodyLimit != nil {
		if d.BodyLimit, err = routetag.ParseSize(*r.BodyLimit); err != nil {
			return Spec{}, fmt.Errorf("body_limit: %w", err)
		}
	}
	return Spec{
		Method:   method,
		Path:     public,
		Service:  r.Service,
		Upstream: d.Path,
		Policy:   def.policy(d),
		Source:   source,
	}, nil
}
