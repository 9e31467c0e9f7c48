package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/routing"
	"github.com/example/gokit-nomad/stringsvc/contract"
)

// The gateway serves what the catalog lists, as it changes: a second service appears at
// /<service>/..., and its routes go when it leaves. The unit-level twin of the system test
// TestServicesAppearAndLeaveUnderLoad.
func TestServicesAreServedAsTheCatalogListsThem(t *testing.T) {
	instance := strings.TrimPrefix(startInstance(t).URL, "http://")
	g, url := startGatewayOf(t, []string{instance}, func(*parts) {})
	if code, body := postTo(t, url+"/wordsvc/uppercase"); code != http.StatusNotFound {
		t.Fatalf("before wordsvc: %d %s, want 404", code, body)
	}
	g.table.SetCatalog(discovery.Catalog{"stringsvc": contract.Declarations(), "wordsvc": contract.Declarations()})
	for _, path := range []string{"/wordsvc/uppercase", "/stringsvc/uppercase"} {
		if code, body := postTo(t, url+path); code != http.StatusOK || body != `{"v":"HELLO"}` {
			t.Fatalf("%s: %d %s, want 200", path, code, body)
		}
	}
	g.table.SetCatalog(discovery.Catalog{"stringsvc": contract.Declarations()})
	if code, body := postTo(t, url+"/wordsvc/uppercase"); code != http.StatusNotFound {
		t.Fatalf("after wordsvc left: %d %s, want 404", code, body)
	}
	if code, _ := postTo(t, url+"/stringsvc/uppercase"); code != http.StatusOK {
		t.Fatalf("stringsvc after wordsvc left: %d", code)
	}
}

// A route is sent only to the instances that declare it.
func TestARouteGoesOnlyToTheInstancesThatDeclareIt(t *testing.T) {
	instance := strings.TrimPrefix(startInstance(t).URL, "http://")
	g, url := startGatewayOf(t, []string{instance}, func(p *parts) {
		p.watch = fixedWatch(t, []string{instance}, []string{"route=POST /uppercase idempotent"}) // /count not declared
	})
	g.table.SetCatalog(discovery.Catalog{"stringsvc": contract.Declarations()}) // the service, as a whole, declares both
	if code, _ := postTo(t, url+"/stringsvc/uppercase"); code != http.StatusOK {
		t.Fatalf("declared route: %d, want 200", code)
	}
	if code, body := postTo(t, url+"/stringsvc/count"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no instances") {
		t.Fatalf("route its one instance does not declare: %d %s, want 503 no instances", code, body)
	}
}

func postTo(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"s":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// A route whose policy changes (a routes file reloaded, a tag changed) is replaced by a new one
// published before the old one closes: the requests on it see no gap.
func TestAChangedRouteServesOnWithoutAGap(t *testing.T) {
	instance := strings.TrimPrefix(startInstance(t).URL, "http://")
	g, url := startGatewayOf(t, []string{instance}, func(*parts) {})
	spec := func(attempts int) routing.Spec {
		return routing.Spec{Method: http.MethodPost, Path: "/legacy/shout", Service: "stringsvc", Upstream: "/uppercase", Source: "routes.hcl",
			Policy: routing.Policy{Idempotent: true, Attempts: attempts, TryTimeout: time.Second, Budget: time.Second, BodyLimit: 1 << 20}}
	}
	g.table.SetFile([]routing.Spec{spec(1)})
	done := make(chan struct{})
	failures := make(chan string, 1)
	var requests atomic.Int64
	go func() {
		defer close(done)
		for range 2000 { // bounded: stops by itself
			code, body := postTo(t, url+"/legacy/shout")
			requests.Add(1)
			if code != http.StatusOK {
				failures <- fmt.Sprintf("%d %s", code, body)
				return
			}
		}
	}()
	for i := range 50 {
		g.table.SetFile([]routing.Spec{spec(1 + i%3)})
	}
	<-done
	select {
	case f := <-failures:
		t.Fatalf("a request failed while the route was replaced: %s (after %d requests)", f, requests.Load())
	default:
	}
}
