package contract

import (
	"testing"

	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// The registration declares exactly the route table, and the gateway reads it back as written.
func TestDeclarationsAreTheRouteTable(t *testing.T) {
	tags := Declarations()
	if len(tags) != len(Operations) {
		t.Fatalf("%d tags for %d operations", len(tags), len(Operations))
	}
	for i, tag := range tags {
		d, err := routetag.Parse(tag)
		op := Operations[i]
		if err != nil || d.Method != op.Method || d.Path != op.Path || d.IsIdempotent() != op.Idempotent {
			t.Errorf("tag %q read as %+v (%v), want %+v", tag, d, err, op)
		}
	}
}
