package requestid

import (
	"context"
	"strings"
	"testing"
)

func TestAcceptKeepsASaneIDAndReplacesAnythingElse(t *testing.T) {
	for _, id := range []string{"abc-123", "3f2c1e8e-7b1d-4c55-9d3a-2b8f0e6c9a11", strings.Repeat("x", 128)} {
		if got := Accept(id); got != id {
			t.Errorf("Accept(%q) = %q, want it kept", id, got)
		}
	}
	for _, id := range []string{"", "with space", "tab\there", "new\nline", "ünïcode", strings.Repeat("x", 129)} {
		got := Accept(id)
		if got == id || len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" {
			t.Errorf("Accept(%q) = %q, want a new 32-hex-digit ID", id, got)
		}
	}
}

func TestNewIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if seen[id] {
			t.Fatalf("New returned %q twice", id)
		}
		seen[id] = true
	}
}

func TestContextCarriesTheID(t *testing.T) {
	if got := FromContext(context.Background()); got != "" {
		t.Errorf("FromContext(empty) = %q, want \"\"", got)
	}
	if got := FromContext(NewContext(context.Background(), "abc")); got != "abc" {
		t.Errorf("FromContext = %q, want abc", got)
	}
}
