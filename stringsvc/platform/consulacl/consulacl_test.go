package consulacl

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want Refusal
	}{
		{"no error", nil, NotRefused},
		{"unreachable", errors.New("dial tcp 127.0.0.1:8500: connect: connection refused"), NotRefused},
		{"another status", api.StatusError{Code: 500, Body: "rpc error"}, NotRefused},
		{"403 without text", fmt.Errorf("register: %w", api.StatusError{Code: 403}), Denied},
		{"permission denied", api.StatusError{Code: 403, Body: "Permission denied: token with AccessorID '...' lacks permission 'service:write' on \"stringsvc\""}, Denied},
		{"acl not found", api.StatusError{Code: 403, Body: "ACL not found"}, UnknownToken},
		{"in a plain error", errors.New(`Unexpected response code: 403 (ACL not found)`), UnknownToken},
		{"a denial relayed by the leader", fmt.Errorf("query: %w", errors.New("Unexpected response code: 500 (rpc error making call: Permission denied)")), Denied},
		{"wrong CA", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), NotRefused},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
