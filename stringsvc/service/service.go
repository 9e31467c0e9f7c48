// Package service holds stringsvc's business logic: the Service interface, its plain
// implementation, and the service-level middlewares (logging, instrumenting) that decorate it.
package service

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrEmpty is returned when an operation needs a non-empty input string.
var ErrEmpty = errors.New("empty string")

// Service operates on strings.
type Service interface {
	// Uppercase returns s in upper case; an empty s is ErrEmpty.
	Uppercase(ctx context.Context, s string) (string, error)
	// Count returns the number of characters (runes) in s. The plain implementation never
	// fails; the error is there for implementations that cross a network (see endpoints.Set).
	Count(ctx context.Context, s string) (int, error)
}

// Middleware decorates a Service.
type Middleware func(Service) Service

// New returns the plain Service implementation wrapped in the given middlewares; the first
// middleware is the outermost.
func New(mws ...Middleware) Service {
	var svc Service = stringService{}
	for i := len(mws) - 1; i >= 0; i-- {
		svc = mws[i](svc)
	}
	return svc
}

type stringService struct{}

func (stringService) Uppercase(_ context.Context, s string) (string, error) {
	if s == "" {
		return "", ErrEmpty
	}
	return strings.ToUpper(s), nil
}

func (stringService) Count(_ context.Context, s string) (int, error) {
	return utf8.RuneCountInString(s), nil
}
