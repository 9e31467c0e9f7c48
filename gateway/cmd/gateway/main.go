// Command gateway is the API gateway in front of stringsvc: it discovers instances in Consul and
// routes /stringsvc/uppercase and /stringsvc/count to them through per-instance circuit breakers,
// round-robin and retries (package proxy).
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

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"

	"github.com/example/gokit-nomad/gateway/discovery"
	"github.com/example/gokit-nomad/gateway/edge"
	"github.com/example/gokit-nomad/gateway/proxy"
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
	logger.Debug("garbage collector", "gogc", tuneGC(os.Getenv))
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
	// Discovery's retries end after the instancer has stopped (defers run last-in first-out), so
	// that stopping is not logged as a failed query.
	discoveryCtx, stopDiscovery := context.WithCancel(context.Background())
	defer stopDiscovery()
	sightings := discovery.NewSightings()
	instancer := discovery.NewInstancer(discoveryCtx, consul, cfg.service, cfg.consulWait, sightings, logger.Named("discovery"))
	defer instancer.Stop()

	var limiter *rate.Limiter // nil: no limit
	if cfg.rateLimit > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.rateLimit), cfg.rateBurst)
	}
	handler, closeRoutes := newHandler(parts{
		service:   cfg.service,
		instancer: instancer,
		sightings: sightings,
		settings:  proxy.Settings{Breaker: cfg.breaker, Outliers: cfg.outliers, Retry: cfg.retry, Logger: logger.Named("proxy")},
		admission: cfg.admission,
		clients:   cfg.upstream,
		limiter:   limiter,
		logger:    logger,
	})
	defer closeRoutes()

	if cfg.pprofListen != "" {
		if err := servePprof(cfg.pprofListen, logger.Named("pprof")); err != nil {
			return fmt.Errorf("pprof listener: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	server := edge.NewServer(handler, logger.Named("http"), edge.DefaultLimits())
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(linger.OnClose(ln)) }()
	logger.Info("listening", "addr", ln.Addr().String(), "service", cfg.service)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("stopping")
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
