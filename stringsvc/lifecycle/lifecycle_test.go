package lifecycle

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
	"github.com/example/gokit-nomad/stringsvc/registry"
)

// fakeAgent is the part of a Consul agent's API a registry.Keeper uses: whether the instance is
// registered.
type fakeAgent struct{ registered atomic.Bool }

func (a *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/agent/service/register":
		a.registered.Store(true)
	case r.URL.Path == "/v1/agent/service/deregister/svc-1":
		a.registered.Store(false)
	case r.Method == http.MethodGet && a.registered.Load():
		_, _ = io.WriteString(w, `{"ID":"svc-1","Service":"svc"}`)
	default:
		http.NotFound(w, r)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Told to stop, the instance leaves Consul first, fails its health check and keeps serving for
// the drain, then shuts down and Run returns nil.
func TestRunDeregistersThenDrainsThenShutsDown(t *testing.T) {
	agent := &fakeAgent{}
	consulSrv := httptest.NewServer(agent)
	defer consulSrv.Close()
	consul, err := api.NewClient(&api.Config{Address: consulSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	health := &Health{}
	mux := http.NewServeMux()
	mux.Handle("/health", health)
	mux.HandleFunc("/work", func(http.ResponseWriter, *http.Request) {})
	const drain = 500 * time.Millisecond
	stop, stopNow := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(stop, Instance{
			Server:          &http.Server{Handler: mux},
			Listener:        ln,
			Keeper:          registry.NewKeeper(consul, &api.AgentServiceRegistration{ID: "svc-1", Name: "svc"}, time.Second, hclog.NewNullLogger()),
			Health:          health,
			Drain:           drain,
			ShutdownTimeout: time.Second,
			Logger:          hclog.NewNullLogger(),
		})
	}()
	testkit.Eventually(t, 5*time.Second, "registered and serving", func() bool {
		return agent.registered.Load() && get(t, base+"/health") == http.StatusOK
	})
	begin := time.Now()
	stopNow()
	testkit.Eventually(t, 5*time.Second, "deregistered", func() bool { return !agent.registered.Load() })
	if code := get(t, base+"/health"); code != http.StatusServiceUnavailable {
		t.Fatalf("health while draining = %d, want 503", code)
	}
	if code := get(t, base+"/work"); code != http.StatusOK || time.Since(begin) >= drain {
		t.Fatalf("work while draining = %d after %v, want served within the drain", code, time.Since(begin))
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after a clean shutdown", err)
	}
	if took := time.Since(begin); took < drain {
		t.Fatalf("shut down after %v, before the %v drain", took, drain)
	}
	if code := get(t, base+"/work"); code != 0 {
		t.Fatalf("still serving (%d) after Run returned", code)
	}
}
