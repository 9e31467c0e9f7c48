package status

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// hostileError is what a failing instance's error says: the page must show it as text.
const hostileError = `<script>alert("x")</script>`

// newRegistry returns a registry with two routes over instances a (failing) and b (working), after
// four requests on each route: a's breakers (2 failures) are open.
func newRegistry(t *testing.T) *proxy.StatusBoard {
	t.Helper()
	registry := proxy.NewStatusBoard()
	factory := func(instance string) (endpoint.Endpoint, io.Closer, error) {
		return func(context.Context, any) (any, error) {
			if instance == "127.0.0.1:1001" {
				return nil, errors.New(hostileError)
			}
			return "ok", nil
		}, nil, nil
	}
	settings := proxy.Settings{
		Breaker: proxy.BreakerSettings{Failures: 2, Open: time.Hour},
		Retry:   proxy.RetryPolicy{Attempts: 2, TryTimeout: time.Second, Budget: time.Second},
		Logger:  hclog.NewNullLogger(),
		Status:  registry,
	}
	for _, name := range []string{"uppercase", "count"} {
		route := proxy.NewRoute(name, sd.FixedInstancer{"127.0.0.1:1001", "127.0.0.1:1002"}, factory, settings)
		t.Cleanup(route.Close)
		// The Endpointer takes in the instances in a goroutine of its own: the first request
		// that finds them is the first of four.
		testkit.Eventually(t, 5*time.Second, "the route knows its instances", func() bool {
			_, err := route.Endpoint(context.Background(), nil)
			return !errors.Is(err, proxy.ErrNoInstances)
		})
		for range 3 { // round-robin started at a, then b, a, b: a fails twice, b answers all four
			if _, err := route.Endpoint(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return registry
}

func TestReportListsEachInstanceWithItsRoutesAndWhenConsulLastListedIt(t *testing.T) {
	sightings := discovery.NewSightings()
	sightings.Record([]*api.ServiceEntry{{Node: &api.Node{Address: "127.0.0.1"}, Service: &api.AgentService{Port: 1002}}})
	now := time.Now().Add(3 * time.Second)
	report := Build("stringsvc", newRegistry(t), sightings, now)

	if len(report.Services) != 1 || report.Services[0].Name != "stringsvc" {
		t.Fatalf("services = %+v, want stringsvc alone", report.Services)
	}
	instances := report.Services[0].Instances
	if len(instances) != 2 || instances[0].Address != "127.0.0.1:1001" || instances[1].Address != "127.0.0.1:1002" {
		t.Fatalf("instances = %+v, want a then b", instances)
	}
	a, b := instances[0], instances[1]
	if a.LastSeenInConsul != nil || a.SeenSecondsAgo != nil {
		t.Errorf("a was never listed by Consul, but the report says %v", *a.LastSeenInConsul)
	}
	if b.LastSeenInConsul == nil || *b.SeenSecondsAgo < 3 || *b.SeenSecondsAgo > 4 {
		t.Errorf("b: last seen %v, %v s ago; want about 3 s before the report", b.LastSeenInConsul, b.SeenSecondsAgo)
	}
	for _, in := range instances {
		if len(in.Routes) != 2 || in.Routes[0].Route != "count" || in.Routes[1].Route != "uppercase" {
			t.Fatalf("routes of %s = %+v, want count and uppercase", in.Address, in.Routes)
		}
	}
	for _, st := range a.Routes {
		if st.Breaker != "open" || st.Failures != 2 || st.LastError != hostileError || st.LastErrorAt == nil {
			t.Errorf("a on %s = %+v, want open with 2 failures and the last error", st.Route, st)
		}
	}
	for _, st := range b.Routes {
		if st.Breaker != "closed" || st.Attempts != 4 || st.Failures != 0 || st.LastErrorAt != nil {
			t.Errorf("b on %s = %+v, want closed with 4 attempts and no failure", st.Route, st)
		}
	}
}

func TestHandlerAnswersJSONOrHTML(t *testing.T) {
	handler := Handler("stringsvc", newRegistry(t), nil)
	for _, tc := range []struct {
		name, uri, accept string
		wantHTML          bool
	}{
		{"curl", "/status", "*/*", false},
		{"browser", "/status", "text/html,application/xhtml+xml,*/*;q=0.8", true},
		{"browser asking for JSON", "/status?format=json", "text/html", false},
		{"curl asking for HTML", "/status?format=html", "*/*", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			ctx.Request.SetRequestURI(tc.uri)
			ctx.Request.Header.Set("Accept", tc.accept)
			handler(&ctx)
			body, contentType := string(ctx.Response.Body()), string(ctx.Response.Header.ContentType())
			if ctx.Response.StatusCode() != 200 || string(ctx.Response.Header.Peek("Cache-Control")) != "no-store" {
				t.Fatalf("answered %d, Cache-Control %q", ctx.Response.StatusCode(), ctx.Response.Header.Peek("Cache-Control"))
			}
			if !tc.wantHTML {
				var report Report
				if !strings.HasPrefix(contentType, "application/json") || json.Unmarshal([]byte(body), &report) != nil || len(report.Services) != 1 {
					t.Fatalf("want a JSON report, got %s: %s", contentType, body)
				}
				return
			}
			if !strings.HasPrefix(contentType, "text/html") {
				t.Fatalf("Content-Type %s, want text/html", contentType)
			}
			for _, want := range []string{
				`data-instance="127.0.0.1:1001" data-route="uppercase" data-breaker="open"`,
				`data-instance="127.0.0.1:1002" data-route="count" data-breaker="closed"`,
				`not since the gateway started`,
				`&lt;script&gt;`, // the instance's error, as text
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			for _, unwanted := range []string{hostileError, "http://", "https://", "<script", "<link", "<img"} {
				if strings.Contains(body, unwanted) {
					t.Errorf("the page contains %q: it must be self-contained and escape what instances say", unwanted)
				}
			}
		})
	}
}
