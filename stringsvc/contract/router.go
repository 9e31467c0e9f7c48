package contract

import (
	"fmt"
	"net/http"
)

// Binding is one path of a JSON API, the one method it accepts and its handler.
type Binding struct {
	Method  string
	Path    string
	Handler http.Handler
}

// NewRouter serves routes by exact path and answers the rest in the contract's error shape:
// 404 for an unknown path, 405 (with an Allow header) for a known path and another method.
func NewRouter(routes ...Binding) http.Handler {
	byPath := make(map[string]Binding, len(routes))
	for _, rt := range routes {
		byPath[rt.Path] = rt
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := byPath[r.URL.Path]
		switch {
		case !ok:
			WriteError(w, http.StatusNotFound, fmt.Errorf("no route for %s", r.URL.Path))
		case r.Method != rt.Method:
			w.Header().Set("Allow", rt.Method)
			WriteError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s needs %s, not %s", r.URL.Path, rt.Method, r.Method))
		default:
			rt.Handler.ServeHTTP(w, r)
		}
	})
}
