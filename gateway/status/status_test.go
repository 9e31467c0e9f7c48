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
	"github.com/example/gokit-nomad/gateway/routing"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// fixedRoutes is a route table that does not change.
type fixedRoutes routing.Snapshot

func (f fixedRoutes) Snapshot() routing.Snapshot { return routing.Snapshot(f) }

// spec is a route of service at path, declared in Consul.
func spec(service, path string) routing.Spec {
	return routing.Spec{Method: "POST", Path: "/" + service + path, Service: service, Upstream: path, Source: routing.SourceConsul,
		Policy: routing.Policy{Idempotent: true, Attempts: 2, TryTimeout: time.Second, Budget: time.Second, BodyLimit: 100}}
}

// table lists stringsvc's two routes and a route of wordsvc, and one conflict.
var table = fixedRoutes{
	Routes: []routing.Spec{spec("stringsvc", "/count"), spec("stringsvc", "/uppercase"), spec("wordsvc", "/count")},
	Conflicts: []routing.Conflict{{Kept: spec("stringsvc", "/count"),
		Refused: routing.Spec{Method: "POST", Path: "/stringsvc/count", Service: "legacy", Upstream: "/c", Source: "routes.hcl"}}},
}

// hostileError is what a failing instance's error says: the page must show it as text.
const hostileError = `<script>alert("x")</script>`

// newRegistryFactory makes instance clients: 127.0.0.1:1001 fails every request, the others answer.
func newRegistryFactory() sd.Factory {
	return func(instance string) (endpoint.Endpoint, io.Closer, error) {
		return func(context.Context, any) (any, error) {
			if instance == "127.0.0.1:1001" {
				return nil, errors.New(hostileError)
			}
			return "ok", nil
		}, nil, nil
	}
}

// newRegistry returns a registry with two routes over instances a (failing) and b (working), after
// four requests on each route: a's breakers (2 failures) are open.
func newRegistry(t *testing.T) *proxy.StatusBoard {
	t.Helper()
	registry := proxy.NewStatusBoard()
	factory := newRegistryFactory()
	settings := proxy.Settings{
		Breaker: proxy.BreakerSettings{Failures: 2, Open: time.Hour},
		Retry:   proxy.RetryPolicy{Idempotent: true, Attempts: 2, TryTimeout: time.Second, Budget: time.Second},
		Logger:  hclog.NewNullLogger(),
		Status:  registry,
	}
	for _, name := range []string{"POST /stringsvc/uppercase", "POST /stringsvc/count"} {
		route := proxy.NewRoute("stringsvc", name, sd.FixedInstancer{"127.0.0.1:1001", "127.0.0.1:1002"}, factory, settings)
		t.Cleanup(route.Close)
		// The Endpointer takes in the instances in a goroutine of its own, one by one.
		testkit.Eventually(t, 5*time.Second, "the route knows both instances", func() bool {
			for _, r := range registry.Routes() {
				if r.Route == name && r.Instances == 2 {
					return true
				}
			}
			return false
		})
		if _, err := route.Endpoint(context.Background(), nil); err != nil { // a fails, b answers
			t.Fatal(err)
		}
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
	report := Build(table, newRegistry(t), sightings, now)

	if len(report.Services) != 2 || report.Services[0].Name != "stringsvc" || report.Services[1].Name != "wordsvc" {
		t.Fatalf("services = %+v, want stringsvc and wordsvc", report.Services)
	}
	if routes := report.Services[0].Routes; len(routes) != 2 || routes[0].Route != "POST /stringsvc/count" || routes[0].Upstream != "/count" ||
		!routes[0].Idempotent || routes[0].Attempts != 2 || routes[0].BudgetMillis != 1000 || routes[0].BodyLimit != 100 {
		t.Errorf("stringsvc's routes = %+v, want count then uppercase with their policy", routes)
	}
	if w := report.Services[1]; len(w.Routes) != 1 || len(w.Instances) != 0 {
		t.Errorf("wordsvc = %+v, want its route and no instance", w)
	}
	if c := report.Conflicts; len(c) != 1 || c[0].Route != "POST /stringsvc/count" || !strings.Contains(c[0].Refused, "legacy") || !strings.Contains(c[0].Kept, "stringsvc") {
		t.Errorf("conflicts = %+v, want legacy's claim on POST /stringsvc/count refused", c)
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
		if len(in.Routes) != 2 || in.Routes[0].Route != "POST /stringsvc/count" || in.Routes[1].Route != "POST /stringsvc/uppercase" {
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
	handler := Handler(table, newRegistry(t), nil)
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
				if !strings.HasPrefix(contentType, "application/json") || json.Unmarshal([]byte(body), &report) != nil || len(report.Services) != 2 {
					t.Fatalf("want a JSON report, got %s: %s", contentType, body)
				}
				return
			}
			if !strings.HasPrefix(contentType, "text/html") {
				t.Fatalf("Content-Type %s, want text/html", contentType)
			}
			for _, want := range []string{
				`data-instance="127.0.0.1:1001" data-route="POST /stringsvc/uppercase" data-breaker="open"`,
				`data-instance="127.0.0.1:1002" data-route="POST /stringsvc/count" data-breaker="closed"`,
				`data-conflict="POST /stringsvc/count"`,
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
