package edge

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// Binding is one path of the gateway, one method on it and its handler.
type Binding struct {
	Method  string
	Path    string
	Handler fasthttp.RequestHandler
}

// Router serves bindings by exact path and method: its fixed ones (the gateway's own pages) and
// the routes published last, which change while it serves (Publish: one atomic swap, no lock on
// the request path). The rest is answered as JSON: 405 (with an Allow header) for a known path
// and another method; 404 for an unknown path, or 503 with Retry-After while the routes are not
// known yet (Ready not called: Consul has not answered since the start).
type Router struct {
	fixed []Binding
	table atomic.Pointer[map[string]pathBindings]
	ready atomic.Bool
}

// pathBindings are the handlers of one path, by method.
type pathBindings map[string]fasthttp.RequestHandler

// NewRouter returns a Router serving the fixed bindings.
func NewRouter(fixed ...Binding) *Router {
	r := &Router{fixed: fixed}
	r.Publish(nil)
	return r
}

// Publish replaces the routes with routes (a fixed binding wins over a route of its path and
// method).
func (r *Router) Publish(routes []Binding) {
	table := map[string]pathBindings{}
	for _, b := range append(slices.Clone(routes), r.fixed...) {
		if table[b.Path] == nil {
			table[b.Path] = pathBindings{}
		}
		table[b.Path][b.Method] = b.Handler
	}
	r.table.Store(&table)
}

// Ready tells the router that the routes are known: an unknown path is a 404 from now on.
func (r *Router) Ready() { r.ready.Store(true) }

// Serve is the router's fasthttp.RequestHandler.
func (r *Router) Serve(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	methods, ok := (*r.table.Load())[string(path)] // no allocation: the compiler reads the bytes in place
	if !ok {
		if !r.ready.Load() {
			ctx.Response.Header.Set("Retry-After", "1")
			writeError(ctx, http.StatusServiceUnavailable, fmt.Errorf("no route for %s yet: Consul has not shown the gateway its services since it started (see its log)", path))
			return
		}
		writeError(ctx, http.StatusNotFound, fmt.Errorf("no route for %s", path))
		return
	}
	if h, ok := methods[string(ctx.Method())]; ok {
		h(ctx)
		return
	}
	allow := strings.Join(slices.Sorted(maps.Keys(methods)), ", ")
	ctx.Response.Header.Set("Allow", allow)
	writeError(ctx, http.StatusMethodNotAllowed, fmt.Errorf("%s needs %s, not %s", path, allow, ctx.Method()))
}
