package edge

import (
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"
)

// Route is one path of the gateway and the one method it accepts.
type Route struct {
	Method  string
	Path    string
	Handler fasthttp.RequestHandler
}

// NewRouter serves routes by exact path and answers the rest like contract.NewRouter does for
// stringsvc: 404 for an unknown path, 405 (with an Allow header) for a known path and another
// method, both as JSON.
func NewRouter(routes ...Route) fasthttp.RequestHandler {
	byPath := make(map[string]Route, len(routes))
	for _, rt := range routes {
		byPath[rt.Path] = rt
	}
	return func(ctx *fasthttp.RequestCtx) {
		path := ctx.Path()
		rt, ok := byPath[string(path)] // no allocation: the compiler reads the bytes in place
		switch {
		case !ok:
			writeError(ctx, http.StatusNotFound, fmt.Errorf("no route for %s", path))
		case string(ctx.Method()) != rt.Method:
			ctx.Response.Header.Set("Allow", rt.Method)
			writeError(ctx, http.StatusMethodNotAllowed, fmt.Errorf("%s needs %s, not %s", path, rt.Method, ctx.Method()))
		default:
			rt.Handler(ctx)
		}
	}
}
