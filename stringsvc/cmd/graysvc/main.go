// Command graysvc is a gray-failure stand-in for stringsvc, for tests and benchmarks: it serves
// stringsvc's routes with stringsvc's own packages, registers in Consul as stringsvc with the same
// HTTP health check, and counts stringsvc's metrics — but answers its service routes late, with
// injected 500s or in periodic stalls, as its flags say, while /health always answers at once, so
// its check passes all along. On SIGTERM/SIGINT it deregisters, drains and shuts down like
// stringsvc.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/instrument"
	"github.com/example/gokit-nomad/stringsvc/lifecycle"
	"github.com/example/gokit-nomad/stringsvc/platform/hclogkit"
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
		fmt.Fprintln(os.Stderr, "graysvc:", err) // one line, then exit 2: nothing has started
		os.Exit(2)
	}
	logger := hclogkit.NewRoot("graysvc", os.Stderr, cfg.logLevel, cfg.logJSON)
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
	if bound.IP.IsUnspecified() {
		return fmt.Errorf("listening on all interfaces (%s): give -listen a specific address to register", bound)
	}
	consul, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		return fmt.Errorf("consul client: %w", err)
	}
	host := bound.IP.String()
	instance := registry.Instance{
		Service:         cfg.service,
		ID:              registry.InstanceID(cfg.service, "", host, bound.Port),
		Host:            host,
		Port:            bound.Port,
		Tags:            contract.Declarations(),
		Meta:            map[string]string{registry.MetricsPathMeta: contract.MetricsPath},
		HealthPath:      contract.HealthPath,
		CheckInterval:   cfg.checkInterval,
		DeregisterAfter: time.Minute,
	}
	logger = logger.With("id", instance.ID)

	health := &lifecycle.Health{}
	metrics := instrument.NewService()
	svc := service.New(service.LoggingMiddleware(logger.Named("service")), metrics.Middleware())
	handler := transport.NewHTTPHandler(endpoints.New(svc), hclogkit.Adapt(logger.Named("transport")),
		contract.Binding{Method: http.MethodGet, Path: contract.HealthPath, Handler: health},
		contract.Binding{Method: http.MethodGet, Path: contract.MetricsPath, Handler: instrument.Handler()},
	)
	degraded := &degrader{faults: cfg.faults, next: handler, epoch: time.Now(), random: rand.Float64, failed: metrics.Failed}
	server := &http.Server{
		Handler:           instrument.Responses(prometheus.DefaultRegisterer)(degraded),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	logger.Info("listening", "addr", bound.String(), "delay", cfg.faults.delay, "delay_share", cfg.faults.delayShare,
		"error_share", cfg.faults.errorShare, "stall_every", cfg.faults.stallEvery, "stall_for", cfg.faults.stallFor)

	signals, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	return lifecycle.Run(signals, lifecycle.Instance{
		Server:   server,
		Listener: ln,
		Keeper:   registry.NewKeeper(consul, instance.Registration(), cfg.resync, logger.Named("registry")),
		Health:   health,
		Drain:    cfg.drain,
		// Held requests end within the longest hold; 10 s more, as stringsvc's shutdown timeout.
		ShutdownTimeout: 10*time.Second + cfg.faults.delay + cfg.faults.stallFor,
		Logger:          logger,
	})
}
