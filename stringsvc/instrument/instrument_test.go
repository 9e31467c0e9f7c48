package instrument

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	kitlog "github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// Every answer is counted by status code, those refused before the service included.
func TestResponsesAreCountedByStatusCode(t *testing.T) {
	reg := prometheus.NewRegistry()
	server := httptest.NewServer(Responses(reg)(transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger())))
	defer server.Close()
	for _, req := range []struct{ path, contentType, body string }{
		{"/uppercase", "application/json", `{"s":"ok"}`},
		{"/uppercase", "application/json", `{"s":"ok again"}`},
		{"/uppercase", "application/json", `{"s":`},    // malformed: 400
		{"/count", "application/json", `{"s":""}`},     // count of "" is 0: fine
		{"/uppercase", "application/json", `{"s":""}`}, // the service's ErrEmpty: 400
		{"/count", "text/plain", `{"s":"x"}`},          // 415
		{"/nowhere", "application/json", `{}`},         // 404
	} {
		r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, server.URL+req.path, strings.NewReader(req.body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", req.contentType)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := `
# HELP stringsvc_http_responses_total HTTP answers, by status code and method.
# TYPE stringsvc_http_responses_total counter
stringsvc_http_responses_total{code="200",method="post"} 3
stringsvc_http_responses_total{code="400",method="post"} 2
stringsvc_http_responses_total{code="404",method="post"} 1
stringsvc_http_responses_total{code="415",method="post"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stringsvc_http_responses_total"); err != nil {
		t.Fatal(err)
	}
}

// A call that failed before the service (graysvc's injected failure) lands in the same series as
// the service's own calls, as a failed one. NewService registers in the default registry: once
// per test binary.
func TestFailedCallsAreCountedWithTheServicesCalls(t *testing.T) {
	metrics := NewService()
	svc := service.New(metrics.Middleware())
	if _, err := svc.Uppercase(context.Background(), "ok"); err != nil {
		t.Fatal(err)
	}
	metrics.Failed("uppercase")
	metrics.Failed("count")
	want := `
# HELP stringsvc_requests_total Requests served, by method and whether they failed.
# TYPE stringsvc_requests_total counter
stringsvc_requests_total{error="false",method="uppercase"} 1
stringsvc_requests_total{error="true",method="count"} 1
stringsvc_requests_total{error="true",method="uppercase"} 1
`
	if err := testutil.GatherAndCompare(prometheus.DefaultGatherer, strings.NewReader(want), "stringsvc_requests_total"); err != nil {
		t.Fatal(err)
	}
}
