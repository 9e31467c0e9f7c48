package routetag

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseReadsEveryOption(t *testing.T) {
	d, err := Parse("route=POST /orders idempotent=false hedge=false attempts=2 try-timeout=150ms budget=2s body-limit=64KiB")
	if err != nil {
		t.Fatal(err)
	}
	no := false
	want := Declaration{Method: "POST", Path: "/orders", Idempotent: &no, Hedge: &no, Attempts: 2,
		TryTimeout: 150 * time.Millisecond, Budget: 2 * time.Second, BodyLimit: 64 << 10}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v, want %+v", d, want)
	}
}

func TestTagIsReadBackUnchanged(t *testing.T) {
	yes := true
	for _, d := range []Declaration{
		{Method: "POST", Path: "/uppercase", Idempotent: &yes},
		{Method: "GET", Path: "/a/b"},
		{Method: "PUT", Path: "/x", Hedge: &yes, Attempts: 5, TryTimeout: time.Second, Budget: 3 * time.Second, BodyLimit: 1000},
	} {
		got, err := Parse(d.Tag())
		if err != nil || !reflect.DeepEqual(got, d) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", d.Tag(), got, err, d)
		}
	}
}

func TestIdempotentByMethodUnlessDeclared(t *testing.T) {
	for tag, want := range map[string]bool{
		"route=GET /a": true, "route=DELETE /a": true, "route=POST /a": false, "route=PATCH /a": false,
		"route=POST /a idempotent": true, "route=GET /a idempotent=false": false,
	} {
		d, err := Parse(tag)
		if err != nil || d.IsIdempotent() != want {
			t.Errorf("%q: idempotent %v (%v), want %v", tag, d.IsIdempotent(), err, want)
		}
	}
}

func TestParseRefusesBadTagsWithTheReason(t *testing.T) {
	for tag, reason := range map[string]string{
		"route=POST":                      "want route=",
		"route=post /a":                   "upper-case",
		"route=POST a":                    "does not start with /",
		"route=POST /a?x=1":               "query",
		"route=POST /a/../b":              "not clean",
		"route=POST /a attempts=0":        "at least 1",
		"route=POST /a budget=-1s":        "positive",
		"route=POST /a body-limit=1GB":    "KiB or MiB",
		"route=POST /a retries=2":         "unknown option",
		"route=POST /a hedge":             "name=value",
		"route=POST /a idempotent=maybe":  "invalid syntax",
		"version=2":                       "not a route tag",
		"route=POST /a try-timeout=fast":  "invalid duration",
		"route=POST /a body-limit=-5":     "KiB or MiB",
		"route=GET /a body-limit=2048MiB": "", // within bounds
	} {
		_, err := Parse(tag)
		if reason == "" {
			if err != nil {
				t.Errorf("%q: %v, want accepted", tag, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), reason) || !strings.Contains(err.Error(), tag) {
			t.Errorf("%q: error %v, want it to name the tag and %q", tag, err, reason)
		}
	}
}
