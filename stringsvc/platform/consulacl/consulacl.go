// Package consulacl tells Consul's refusals of a request's ACL token from other failures, so that
// both binaries can say in their logs what to fix (stringsvc's registry, the gateway's discovery).
package consulacl

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hashicorp/consul/api"
)

// Refusal is how Consul refused a request for its token.
type Refusal int

const (
	NotRefused   Refusal = iota // no error, or a failure that is not about the token
	Denied                      // 403 "Permission denied": the token (or, without one, the anonymous token) lacks a rule
	UnknownToken                // 403 "ACL not found": Consul does not know the token (a typo, or deleted)
)

// Classify returns how err, from a consul/api call, refused the token.
func Classify(err error) Refusal {
	if err == nil {
		return NotRefused
	}
	var se api.StatusError
	forbidden := errors.As(err, &se) && se.Code == http.StatusForbidden
	switch msg := err.Error(); {
	case strings.Contains(msg, "ACL not found"):
		return UnknownToken
	case forbidden || strings.Contains(msg, "Permission denied"):
		return Denied
	}
	return NotRefused
}
