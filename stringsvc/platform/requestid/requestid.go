// Package requestid carries a request's ID (the X-Request-ID header) through a context, so that
// the gateway and the stringsvc instance it calls log the same ID for one request. A client's ID
// is kept when it is sane (Accept); otherwise, or without one, a new random ID is made.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Header is the HTTP header that carries the ID, in requests and in answers: X-Request-ID, spelt
// in Go's canonical form so that net/http need not convert it on every request (header names are
// case-insensitive).
const Header = "X-Request-Id"

// maxLen bounds an ID taken from a client: enough for a UUID or a trace ID, not for a flood.
const maxLen = 128

type contextKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the ID ctx carries, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(contextKey{}).(string)
	return id
}

// Accept returns the client's ID if it is 1 to 128 printable ASCII characters without spaces
// (safe to log and to pass on as a header), else a new one.
func Accept(fromClient string) string {
	if len(fromClient) == 0 || len(fromClient) > maxLen {
		return New()
	}
	for i := 0; i < len(fromClient); i++ {
		if c := fromClient[i]; c <= ' ' || c > '~' {
			return New()
		}
	}
	return fromClient
}

// New returns a random ID: 32 hex digits (128 bits).
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
