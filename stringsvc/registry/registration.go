// Package registry keeps a service instance registered in Consul through go-kit's sd/consul
// registrar for as long as the instance serves, and deregisters it when it stops: stringsvc's
// instances, and the gateway itself (so that monitoring finds it).
//
// go-kit's Registrar registers once and only logs a failure. A Keeper adds what production needs:
// it retries until Consul accepts the registration (Consul may start after the service; under Nomad
// it is just another job) and re-registers whenever the local agent has forgotten it (a restarted
// dev agent forgets every service).
package registry

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"
)

// Instance describes what a service instance registers.
type Instance struct {
	Service string // Consul service name, e.g. "stringsvc"
	ID      string // unique per instance, see InstanceID
	Host    string // address other processes reach the instance at
	Port    int
	// Tags are the registration's Consul tags: the route declarations the gateway serves
	// (package routetag; contract.Declarations for stringsvc).
	Tags []string
	// Meta is the registration's service metadata; MetricsPathMeta tells Prometheus where to
	// scrape (nomad/prometheus.nomad keeps the instances that declare it).
	Meta map[string]string
	// HealthPath is checked over HTTP every CheckInterval; an instance failing it for
	// DeregisterAfter is removed by Consul itself (e.g. after a SIGKILL).
	HealthPath      string
	CheckInterval   time.Duration
	DeregisterAfter time.Duration
}

// MetricsPathMeta is the service metadata key under which an instance declares the path of its
// Prometheus metrics, e.g. "/metrics".
const MetricsPathMeta = "metrics_path"

// InstanceID returns "<service>-<allocID>" under Nomad (allocID set), else "<service>-<host>-<port>",
// which is unique per host:port.
func InstanceID(service, allocID, host string, port int) string {
	if allocID != "" {
		return service + "-" + allocID
	}
	return fmt.Sprintf("%s-%s-%d", service, host, port)
}

// Registration returns the Consul registration of the instance, with its HTTP health check. An
// instance without a Host registers no address (Consul lists its node's) and is checked through
// loopback by its node's agent.
func (in Instance) Registration() *api.AgentServiceRegistration {
	checkHost := in.Host
	if checkHost == "" {
		checkHost = "127.0.0.1"
	}
	hostPort := net.JoinHostPort(checkHost, strconv.Itoa(in.Port))
	return &api.AgentServiceRegistration{
		ID:      in.ID,
		Name:    in.Service,
		Tags:    in.Tags,
		Meta:    in.Meta,
		Address: in.Host,
		Port:    in.Port,
		Check: &api.AgentServiceCheck{
			CheckID:                        in.ID + "-http",
			Name:                           in.Service + " HTTP " + in.HealthPath,
			HTTP:                           "http://" + hostPort + in.HealthPath,
			Method:                         "GET",
			Interval:                       in.CheckInterval.String(),
			Timeout:                        in.CheckInterval.String(),
			DeregisterCriticalServiceAfter: in.DeregisterAfter.String(),
		},
	}
}
