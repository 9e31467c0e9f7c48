// Package routetag is the syntax in which a service declares its routes to the gateway: one
// Consul service tag per route, like Fabio's urlprefix- tags.
//
//	route=<METHOD> <path> [option ...]
//
//	route=POST /uppercase idempotent
//	route=POST /orders attempts=1 try-timeout=2s budget=5s body-limit=64KiB
//
// The gateway serves the route at /<service><path> and forwards it to <path> on the service's
// instances that declare it. Options override the gateway's defaults (its flags) for this route:
//
//	idempotent, idempotent=false   may a request be processed twice (default: by the method,
//	                               RFC 9110: GET, HEAD, OPTIONS, PUT, DELETE are; POST, PATCH not)
//	attempts=N                     most instances one request is sent to, hedges included
//	try-timeout=DURATION           timeout of each attempt (Go duration: 250ms, 2s)
//	budget=DURATION                total time of one request, all attempts included
//	hedge=BOOL                     race a slow attempt with another (idempotent routes only)
//	body-limit=SIZE                largest request body: bytes, or with KiB or MiB
//
// Both sides use this package: a service formats its tags (Declaration.Tag), the gateway parses
// them (Parse). It knows no service.
package routetag

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Prefix starts every route tag.
const Prefix = "route="

// Declaration is one route as a service declares it. A zero option means "the gateway's default".
type Declaration struct {
	Method string // upper case, e.g. POST
	Path   string // upstream path, starting with "/"
	// Idempotent and Hedge are nil when not declared.
	Idempotent *bool
	Hedge      *bool
	Attempts   int
	TryTimeout time.Duration
	Budget     time.Duration
	BodyLimit  int64
}

// Key is the route's method and path, as "POST /uppercase".
func (d Declaration) Key() string { return d.Method + " " + d.Path }

// IsIdempotent is the declared idempotency, or the method's (RFC 9110) when none was declared.
func (d Declaration) IsIdempotent() bool {
	if d.Idempotent != nil {
		return *d.Idempotent
	}
	return IdempotentMethod(d.Method)
}

// IdempotentMethod reports whether RFC 9110 defines method as idempotent.
func IdempotentMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// Tag formats d as a route tag; Parse reads it back unchanged.
func (d Declaration) Tag() string {
	var b strings.Builder
	b.WriteString(Prefix + d.Key())
	if d.Idempotent != nil {
		if *d.Idempotent {
			b.WriteString(" idempotent")
		} else {
			b.WriteString(" idempotent=false")
		}
	}
	if d.Hedge != nil {
		b.WriteString(" hedge=" + strconv.FormatBool(*d.Hedge))
	}
	if d.Attempts != 0 {
		b.WriteString(" attempts=" + strconv.Itoa(d.Attempts))
	}
	if d.TryTimeout != 0 {
		b.WriteString(" try-timeout=" + d.TryTimeout.String())
	}
	if d.Budget != 0 {
		b.WriteString(" budget=" + d.Budget.String())
	}
	if d.BodyLimit != 0 {
		b.WriteString(" body-limit=" + strconv.FormatInt(d.BodyLimit, 10))
	}
	return b.String()
}

// IsRoute reports whether tag is a route tag (one Parse reads or refuses), not another tag.
func IsRoute(tag string) bool { return strings.HasPrefix(tag, Prefix) }

// Parse reads a route tag. Its error names what is wrong in one line.
func Parse(tag string) (Declaration, error) {
	var d Declaration
	if !IsRoute(tag) {
		return d, fmt.Errorf("%q: not a route tag (%s<METHOD> <path> [option ...])", tag, Prefix)
	}
	fields := strings.Fields(strings.TrimPrefix(tag, Prefix))
	if len(fields) < 2 {
		return d, fmt.Errorf("%q: want %s<METHOD> <path> [option ...]", tag, Prefix)
	}
	d.Method, d.Path = fields[0], fields[1]
	if err := CheckRoute(d.Method, d.Path); err != nil {
		return d, fmt.Errorf("%q: %w", tag, err)
	}
	for _, opt := range fields[2:] {
		if err := d.setOption(opt); err != nil {
			return d, fmt.Errorf("%q: option %q: %w", tag, opt, err)
		}
	}
	return d, nil
}

// CheckRoute refuses a method that is not an upper-case token and a path that is not absolute,
// clean and free of query, fragment and spaces.
func CheckRoute(method, path string) error {
	if method == "" || strings.ContainsFunc(method, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return fmt.Errorf("method %q is not an upper-case HTTP method", method)
	}
	switch {
	case !strings.HasPrefix(path, "/"):
		return fmt.Errorf("path %q does not start with /", path)
	case strings.ContainsAny(path, "?# \t"):
		return fmt.Errorf("path %q holds a query, fragment or space", path)
	case strings.Contains(path, "//") || strings.Contains(path, "/./") || strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") || strings.HasSuffix(path, "/."):
		return fmt.Errorf("path %q is not clean", path)
	}
	return nil
}

func (d *Declaration) setOption(opt string) error {
	name, value, hasValue := strings.Cut(opt, "=")
	if !hasValue && name != "idempotent" {
		return errors.New("want name=value")
	}
	var err error
	switch name {
	case "idempotent":
		v := true
		if hasValue {
			v, err = strconv.ParseBool(value)
		}
		d.Idempotent = &v
	case "hedge":
		var v bool
		v, err = strconv.ParseBool(value)
		d.Hedge = &v
	case "attempts":
		d.Attempts, err = strconv.Atoi(value)
		if err == nil && d.Attempts < 1 {
			err = errors.New("must be at least 1")
		}
	case "try-timeout":
		d.TryTimeout, err = ParseDuration(value)
	case "budget":
		d.Budget, err = ParseDuration(value)
	case "body-limit":
		d.BodyLimit, err = ParseSize(value)
	default:
		return errors.New("unknown option (idempotent, hedge, attempts, try-timeout, budget, body-limit)")
	}
	return err
}

// ParseDuration reads a positive Go duration: "250ms", "2s".
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = errors.New("must be positive")
	}
	return d, err
}

// ParseSize reads a size in bytes: "65536", "64KiB" or "1MiB".
func ParseSize(s string) (int64, error) {
	digits, unit := s, int64(1)
	switch {
	case strings.HasSuffix(s, "KiB"):
		digits, unit = strings.TrimSuffix(s, "KiB"), 1<<10
	case strings.HasSuffix(s, "MiB"):
		digits, unit = strings.TrimSuffix(s, "MiB"), 1<<20
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 1 || n > (1<<40)/unit {
		return 0, fmt.Errorf("size %q is not a positive number of bytes, KiB or MiB", s)
	}
	return n * unit, nil
}
