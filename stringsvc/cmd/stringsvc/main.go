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
	"syscall"

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
		Tags:            contract.Declarations(),
		Meta:            map[string]string{registry.MetricsPathMeta: contract.MetricsPath},
		HealthPath:      contract.HealthPath,
		CheckInterval:   cfg.checkInterval,
		DeregisterAfter: cfg.deregisterAfter,
	}
	logger = logger.With("id", instance.ID)

	health := &lifecycle.Health{}
	svc := service.New(
		service.LoggingMiddleware(logger.Named("service")),
		instrument.NewService().Middleware(),
	)
	handler := transport.NewHTTPHandler(endpoints.New(svc), hclogkit.Adapt(logger.Named("transport")),
		contract.Binding{Method: http.MethodGet, Path: contract.HealthPath, Handler: health},
		contract.Binding{Method: http.MethodGet, Path: contract.MetricsPath, Handler: instrument.Handler()},
	)
	server := newHTTPServer(instrument.Responses(prometheus.DefaultRegisterer)(handler), defaultLimits)
	logger.Info("listening", "addr", bound.String())

	signals, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	return lifecycle.Run(signals, lifecycle.Instance{
		Server:          server,
		Listener:        ln,
		Keeper:          registry.NewKeeper(consul, instance.Registration(), cfg.resync, logger.Named("registry")),
		Health:          health,
		Drain:           cfg.drain,
		ShutdownTimeout: cfg.shutdownTimeout,
		Logger:          logger,
	})
}
