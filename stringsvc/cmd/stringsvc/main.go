// Command stringsvc serves the string service over HTTP, registers itself in Consul, and on
// SIGTERM/SIGINT deregisters, drains and shuts down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/hclogkit"
	"github.com/example/gokit-nomad/stringsvc/instrument"
	"github.com/example/gokit-nomad/stringsvc/linger"
	"github.com/example/gokit-nomad/stringsvc/registry"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0) // the usage is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stringsvc:", err) // one line, then exit 2: nothing has started
		os.Exit(2)
	}
	logger := hclogkit.NewRoot("stringsvc", os.Stderr, cfg.logLevel, cfg.logJSON)
	if err := run(cfg, logger); err != nil {
		logger.Error("exiting", "err", err)
		os.Exit(1)
	}
}

func run(cfg config, logger hclog.Logger) error {
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	bound := ln.Addr().(*net.TCPAddr)
	host, err := cfg.advertiseHost(bound)
	if err != nil {
		return err
	}
	consul, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		return fmt.Errorf("consul client: %w", err)
	}
	instance := registry.Instance{
		Service:         cfg.service,
		ID:              registry.InstanceID(cfg.service, cfg.allocID, host, bound.Port),
		Host:            host,
		Port:            bound.Port,
		HealthPath:      contract.HealthPath,
		CheckInterval:   cfg.checkInterval,
		DeregisterAfter: cfg.deregisterAfter,
	}
	logger = logger.With("id", instance.ID)

	var draining atomic.Bool
	svc := service.New(
		service.LoggingMiddleware(logger.Named("service")),
		instrument.NewService().Middleware(),
	)
	handler := transport.NewHTTPHandler(endpoints.New(svc), hclogkit.Adapt(logger.Named("transport")),
		contract.Route{Method: http.MethodGet, Path: contract.HealthPath, Handler: healthHandler(&draining)},
		contract.Route{Method: http.MethodGet, Path: contract.MetricsPath, Handler: instrument.Handler()},
	)
	server := newHTTPServer(instrument.Responses(prometheus.DefaultRegisterer)(handler), defaultLimits)
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(linger.OnClose(ln)) }() // a refused 413 body ends in a FIN, not a reset
	logger.Info("listening", "addr", bound.String())

	keeper := registry.NewKeeper(consul, instance.Registration(), cfg.resync, logger.Named("registry"))
	keepCtx, stopKeeping := context.WithCancel(context.Background())
	kept := make(chan struct{})
	go func() { defer close(kept); keeper.Run(keepCtx) }()

	signals, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	select {
	case err := <-serveErr:
		stopKeeping()
		<-kept
		return fmt.Errorf("serving: %w", err)
	case <-signals.Done():
	}

	// Leave Consul first, keep serving while gateways notice, then stop taking requests.
	logger.Info("stopping: deregistering, then draining", "drain", cfg.drain)
	stopKeeping()
	<-kept
	draining.Store(true)
	deregCtx, cancelDereg := context.WithTimeout(context.Background(), 5*time.Second)
	if err := keeper.Deregister(deregCtx); err != nil {
		logger.Warn("could not deregister; consul's health check will remove this instance", "err", err)
	}
	cancelDereg()
	time.Sleep(cfg.drain)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancelShutdown()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// healthHandler answers Consul's check: 200 while serving, 503 once draining.
func healthHandler(draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if draining.Load() {
			_ = contract.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
			return
		}
		_ = contract.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
