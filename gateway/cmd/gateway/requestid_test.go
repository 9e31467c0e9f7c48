package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	kitlog "github.com/go-kit/log"

	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// A request's ID travels client → gateway → instance and back: the client's own when it sends
// one, else one the gateway makes, the same at the instance and in the answer.
func TestRequestIDReachesTheInstanceAndComesBack(t *testing.T) {
	var mu sync.Mutex
	var seen []string // X-Request-ID of each request the instance got
	handler := transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger())
	instance := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(requestid.Header))
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	defer instance.Close()
	gateway := startGateway(t, []string{strings.TrimPrefix(instance.URL, "http://")})

	for _, tc := range []struct {
		sent string
		kept bool // else the gateway makes a new ID
	}{{"trace-4711", true}, {"", false}, {"bad id with spaces", false}} {
		sent := tc.sent
		req, err := http.NewRequest(http.MethodPost, gateway+"/stringsvc/uppercase", strings.NewReader(`{"s":"id"}`))
		if err != nil {
			t.Fatal(err)
		}
		if sent != "" {
			req.Header.Set(requestid.Header, sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		answered := resp.Header.Get(requestid.Header)
		mu.Lock()
		atInstance := seen[len(seen)-1]
		mu.Unlock()
		switch {
		case tc.kept && answered != sent:
			t.Errorf("sent %q: answered with ID %q, want it kept", sent, answered)
		case !tc.kept && (answered == "" || answered == sent):
			t.Errorf("sent %q: answered with ID %q, want a new one", sent, answered)
		}
		if atInstance != answered {
			t.Errorf("sent %q: the instance got ID %q, the answer has %q", sent, atInstance, answered)
		}
	}
}
