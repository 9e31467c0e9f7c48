package main

import (
	"net"
	"os"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/registry"
)

// The gateway registers itself in Consul for one reason: so that monitoring finds it the way it
// finds every service (nomad/prometheus.nomad scrapes the instances that declare metrics_path). Nothing routes to
// it through Consul, and it declares no route; serving never waits for the registration, and a
// Consul that refuses it is logged, then retried, like stringsvc's.
const (
	registrationCheckInterval = 5 * time.Second
	registrationDeregister    = time.Minute // a gateway killed by SIGKILL leaves Consul after this (its minimum)
	registrationResync        = 10 * time.Second
	deregisterTimeout         = 2 * time.Second
)

// registration is the gateway's own Consul registration, serving at bound. Its host is
// -advertise (NOMAD_IP_http under Nomad), else the listen host; a gateway listening on every
// interface with neither registers no address, so that Consul lists its node's address, and its
// check goes through loopback (the Consul agent a process registers with runs on its node).
func (c config) registration(bound *net.TCPAddr) registry.Instance {
	host := c.advertise
	if host == "" && !bound.IP.IsUnspecified() {
		host = bound.IP.String()
	}
	idHost := host
	if idHost == "" {
		idHost, _ = os.Hostname()
	}
	return registry.Instance{
		Service:         c.serviceName,
		ID:              registry.InstanceID(c.serviceName, c.allocID, idHost, bound.Port),
		Host:            host,
		Port:            bound.Port,
		Meta:            map[string]string{registry.MetricsPathMeta: metricsPath},
		HealthPath:      healthPath,
		CheckInterval:   registrationCheckInterval,
		DeregisterAfter: registrationDeregister,
	}
}

// keepRegistered keeps in registered in Consul in the background and returns the function that
// deregisters it, waiting at most deregisterTimeout (a gateway that cannot reach Consul is removed
// by its failing check instead).
func keepRegistered(consul *api.Client, in registry.Instance, logger hclog.Logger) (deregister func()) {
	kept := registry.NewKeeper(consul, in.Registration(), registrationResync, logger.With("id", in.ID)).Start()
	return func() {
		if err := kept.Leave(deregisterTimeout); err != nil {
			logger.Warn("could not deregister from consul; its check will fail instead", "err", err)
		}
	}
}
