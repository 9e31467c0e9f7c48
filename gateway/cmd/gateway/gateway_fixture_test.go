package main

import (
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/go-kit/kit/sd"
	kitlog "github.com/go-kit/log"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// The tests' gateway: its whole request path over instances in this process, with a catalog
// that lists one service, stringsvc, whose instances declare the contract's routes, as Consul
// would report them.

// startGateway serves the gateway's routes with its default settings over the given instances
// (host:port) and returns its base URL.
func startGateway(tb testing.TB, instances []string) string {
	tb.Helper()
	return startGatewayWith(tb, instances, func(*parts) {})
}

// startGatewayWith is startGateway with the parts changed by change first.
func startGatewayWith(tb testing.TB, instances []string, change func(*parts)) string {
	tb.Helper()
	_, url := startGatewayOf(tb, instances, change)
	return url
}

// startGatewayOf is startGatewayWith that returns the gateway too, whose table a test may feed.
func startGatewayOf(tb testing.TB, instances []string, change func(*parts)) (*gateway, string) {
	tb.Helper()
	cfg, err := parseConfig(nil) // the gateway's defaults
	if err != nil {
		tb.Fatal(err)
	}
	// Sorted: sd.FixedInstancer hands its one slice to every route's Endpointer, which each sort
	// it in place (Consul's Instancer gives each subscriber a copy).
	instances = slices.Sorted(slices.Values(instances))
	p := parts{
		watch:     fixedWatch(tb, instances, contract.Declarations()),
		settings:  proxy.Settings{Breaker: cfg.breaker, Outliers: cfg.outliers, Retry: cfg.retry, Logger: hclog.NewNullLogger()},
		admission: cfg.admission,
		clients:   cfg.upstream,
		defaults:  cfg.routeDefaults(),
		logger:    hclog.NewNullLogger(),
	}
	change(&p)
	g := newGateway(p)
	tb.Cleanup(g.close)
	g.table.SetCatalog(discovery.Catalog{"stringsvc": contract.Declarations()})
	g.router.Ready()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	server := edge.NewServer(g.router.Serve, hclog.NewNullLogger(), edge.DefaultLimits())
	go func() { _ = server.Serve(linger.OnClose(ln)) }()
	tb.Cleanup(func() { _ = server.Shutdown() })
	return g, "http://" + ln.Addr().String()
}

// fixedWatch is parts.watch over a fixed set of instances that all declare tags.
func fixedWatch(tb testing.TB, instances, tags []string) func(string) (sd.Instancer, *discovery.Declarations, func()) {
	return func(string) (sd.Instancer, *discovery.Declarations, func()) {
		declarations := discovery.NewDeclarations()
		entries := make([]*api.ServiceEntry, 0, len(instances))
		for _, in := range instances {
			host, port, err := net.SplitHostPort(in)
			if err != nil {
				tb.Fatal(err)
			}
			p, _ := strconv.Atoi(port)
			entries = append(entries, &api.ServiceEntry{Service: &api.AgentService{Address: host, Port: p, Tags: tags}})
		}
		declarations.Record(entries)
		return sd.FixedInstancer(instances), declarations, func() {}
	}
}

func startInstance(tb testing.TB) *httptest.Server {
	tb.Helper()
	handler := transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger())
	s := httptest.NewServer(handler)
	tb.Cleanup(s.Close)
	return s
}
