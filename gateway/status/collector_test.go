package status

import (
	"strings"
	"testing"
	"time"

	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// The collector reads the board at each scrape: a route's series are there while the route is,
// and go with it, so that an alert on a route that went (no instances, a breaker left open)
// resolves.
func TestCollectorSeriesFollowTheRoutes(t *testing.T) {
	board := newRegistry(t) // two routes over a (failing: breakers open) and b
	var consul discovery.Health
	c := NewCollector(board, &consul)
	want := `
# HELP gateway_breaker_state State of each instance endpoint's circuit breaker: 0 closed, 1 half-open, 2 open.
# TYPE gateway_breaker_state gauge
gateway_breaker_state{route="POST /stringsvc/count",service="stringsvc",upstream="127.0.0.1:1001"} 2
gateway_breaker_state{route="POST /stringsvc/count",service="stringsvc",upstream="127.0.0.1:1002"} 0
gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream="127.0.0.1:1001"} 2
gateway_breaker_state{route="POST /stringsvc/uppercase",service="stringsvc",upstream="127.0.0.1:1002"} 0
# HELP gateway_consul_reachable 1 while the gateway's watch of Consul's catalog gets answers; 0 while Consul is unreachable (the routes stay as they were).
# TYPE gateway_consul_reachable gauge
gateway_consul_reachable 0
# HELP gateway_consul_no_passing 1 while Consul lists no passing instance of a routed service and its routes keep the last known ones (fail static).
# TYPE gateway_consul_no_passing gauge
gateway_consul_no_passing{service="stringsvc"} 0
# HELP gateway_instances Instances each route knows (passing in Consul, or kept while Consul is unreachable).
# TYPE gateway_instances gauge
gateway_instances{route="POST /stringsvc/count",service="stringsvc"} 2
gateway_instances{route="POST /stringsvc/uppercase",service="stringsvc"} 2
# HELP gateway_instances_ejected Instances of each route ejected now (breaker opened).
# TYPE gateway_instances_ejected gauge
gateway_instances_ejected{route="POST /stringsvc/count",service="stringsvc"} 1
gateway_instances_ejected{route="POST /stringsvc/uppercase",service="stringsvc"} 1
`
	names := []string{"gateway_breaker_state", "gateway_consul_reachable", "gateway_consul_no_passing", "gateway_instances", "gateway_instances_ejected"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}

	// A new route over the same board, then closed: its series come and go.
	route := proxy.NewRoute("wordsvc", "POST /wordsvc/count", sd.FixedInstancer{"127.0.0.1:1003"},
		newRegistryFactory(), proxy.Settings{Logger: hclog.NewNullLogger(), Status: board})
	testkit.Eventually(t, 5*time.Second, "the wordsvc route is collected", func() bool {
		return testutil.CollectAndCount(c, "gateway_instances") == 3 && testutil.CollectAndCount(c, "gateway_breaker_state") == 5
	})
	route.Close()
	if n, m := testutil.CollectAndCount(c, "gateway_instances"), testutil.CollectAndCount(c, "gateway_breaker_state"); n != 2 || m != 4 {
		t.Fatalf("after the route closed: %d gateway_instances and %d gateway_breaker_state series, want 2 and 4", n, m)
	}
}
