// Command gateway is an API gateway for go-kit services discovered in Consul: it serves the
// routes services declare in their registration (route tags, package routetag) and those of an
// optional routes file, at /<service>/..., each through per-instance circuit breakers, admission
// control, round-robin, retries and hedges (package proxy). It knows no service by name.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/routing"
	"github.com/example/gokit-nomad/stringsvc/platform/hclogkit"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
)

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0) // the usage is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err) // one line, then exit 2: nothing has started
		os.Exit(2)
	}
	logger := hclogkit.NewRoot("gateway", os.Stderr, cfg.logLevel, cfg.logJSON)
	logger.Info("garbage collector", "memory_limit", describeLimit(tuneGC(os.Getenv)))
	if err := run(cfg, logger); err != nil {
		logger.Error("exiting", "err", err)
		os.Exit(1)
	}
}

func run(cfg config, logger hclog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	consul, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		return fmt.Errorf("consul client: %w", err)
	}
	// Discovery's retries end after the routes have closed (defers run last-in first-out), so
	// that stopping is not logged as a failed query.
	discoveryCtx, stopDiscovery := context.WithCancel(context.Background())
	defer stopDiscovery()
	sightings := discovery.NewSightings()
	health := &discovery.Health{} // what discovery hides by failing static, for the metrics
	discoveryLog := logger.Named("discovery")

	var limiter *rate.Limiter // nil: no limit
	if cfg.rateLimit > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.rateLimit), cfg.rateBurst)
	}
	g := newGateway(parts{
		watch: func(service string) (sd.Instancer, *discovery.Declarations, func()) {
			// The service's own context ends its retries when its last route goes, even while
			// Consul is unreachable.
			ctx, cancel := context.WithCancel(discoveryCtx)
			declarations := discovery.NewDeclarations()
			instancer := discovery.NewInstancer(ctx, consul, service, cfg.consulWait, discoveryLog, sightings, declarations, health)
			return instancer, declarations, func() { instancer.Stop(); cancel() }
		},
		sightings: sightings,
		consul:    health,
		settings:  proxy.Settings{Breaker: cfg.breaker, Outliers: cfg.outliers, Retry: cfg.retry, Logger: logger.Named("proxy")},
		admission: cfg.admission,
		clients:   cfg.upstream,
		defaults:  cfg.routeDefaults(),
		limiter:   limiter,
		logger:    logger,
	})
	defer g.close()
	g.table.SetFile(cfg.fileRoutes)
	// The catalog watch ends before the routes close (defers run last-in first-out): no route
	// opens after them.
	watchCtx, stopWatch := context.WithCancel(discoveryCtx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		discovery.WatchCatalog(watchCtx, consul, discovery.CatalogSettings{Wait: cfg.consulWait, Grace: cfg.routeGrace, Health: health}, discoveryLog,
			func(catalog discovery.Catalog) {
				g.table.SetCatalog(catalog)
				g.router.Ready()
			})
	}()
	defer func() { stopWatch(); <-watched }()
	go reloadOnHangup(ctx, cfg, g.table, logger.Named("routes"))

	if cfg.pprofListen != "" {
		if err := servePprof(cfg.pprofListen, logger.Named("pprof")); err != nil {
			return fmt.Errorf("pprof listener: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	limits := edge.DefaultLimits()
	limits.MaxBodyBytes = int(cfg.bodyLimit)
	server := edge.NewServer(g.router.Serve, logger.Named("http"), limits)
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(linger.OnClose(ln)) }()
	logger.Info("listening", "addr", ln.Addr().String(), "routes_file", cfg.routesFile)
	deregister := func() {}
	if cfg.register {
		deregister = keepRegistered(consul, cfg.registration(ln.Addr().(*net.TCPAddr)), logger.Named("registry"))
	}

	select {
	case err := <-serveErr:
		deregister()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("stopping")
	deregister()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	// Stops accepting, then waits for the requests in flight (at most -shutdown-timeout).
	if err := server.ShutdownWithContext(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// reloadOnHangup rereads the routes file on each SIGHUP until ctx ends (without one, a SIGHUP
// is logged and ignored: it never stops the gateway). A file that does not
// load is refused whole: the routes stay as they were, and the error is logged.
func reloadOnHangup(ctx context.Context, cfg config, table *routing.Table, logger hclog.Logger) {
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	defer signal.Stop(hangups)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangups:
			if cfg.routesFile == "" {
				logger.Info("SIGHUP: no routes file to reload (-routes-file)")
				continue
			}
			specs, err := routing.LoadFile(cfg.routesFile, cfg.routeDefaults())
			if err != nil {
				logger.Error("routes file refused; the routes stay as they were", "err", err)
				continue
			}
			table.SetFile(specs)
			logger.Info("routes file reloaded", "file", cfg.routesFile, "routes", len(specs))
		}
	}
}
