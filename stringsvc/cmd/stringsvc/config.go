package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/flagenv"
)

// config is everything stringsvc reads from flags and the environment. Consul itself is found
// through consul/api's standard variables (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_CACERT, ...).
type config struct {
	listen          string
	advertise       string
	service         string
	allocID         string
	checkInterval   time.Duration
	deregisterAfter time.Duration
	resync          time.Duration
	drain           time.Duration
	shutdownTimeout time.Duration
	logJSON         bool
	logLevel        string
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("stringsvc", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address to listen on; port 0 picks a free port (default under Nomad: NOMAD_IP_http:NOMAD_PORT_http)")
	fs.StringVar(&c.advertise, "advertise", "", "address registered in Consul (default: the listen host)")
	fs.StringVar(&c.service, "service", "stringsvc", "Consul service name")
	fs.DurationVar(&c.checkInterval, "check-interval", time.Second, "interval (and timeout) of Consul's HTTP health check")
	fs.DurationVar(&c.deregisterAfter, "deregister-critical-after", time.Minute, "Consul removes an instance whose check stays critical this long (Consul's minimum is 1m)")
	fs.DurationVar(&c.resync, "resync", 2*time.Second, "how often to confirm the registration is still in Consul (and the longest retry wait)")
	fs.DurationVar(&c.drain, "drain", 3*time.Second, "on SIGTERM/SIGINT: time to keep serving after deregistering, so gateways drop this instance first")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "longest wait for in-flight requests after the drain")
	fs.BoolVar(&c.logJSON, "log-json", false, "log as JSON lines")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	if err := flagenv.Parse(fs, args, map[string]string{
		"listen":                    "STRINGSVC_LISTEN",
		"advertise":                 "STRINGSVC_ADVERTISE",
		"service":                   "STRINGSVC_SERVICE",
		"check-interval":            "STRINGSVC_CHECK_INTERVAL",
		"deregister-critical-after": "STRINGSVC_DEREGISTER_CRITICAL_AFTER",
		"resync":                    "STRINGSVC_RESYNC",
		"drain":                     "STRINGSVC_DRAIN",
		"shutdown-timeout":          "STRINGSVC_SHUTDOWN_TIMEOUT",
		"log-json":                  "LOG_JSON",
		"log-level":                 "LOG_LEVEL",
	}); err != nil {
		return c, err
	}
	// Nomad hands out a (dynamic) port through NOMAD_IP_http/NOMAD_PORT_http: the default address.
	c.listen = flagenv.ListenAddr(fs, "listen", "http")
	if err := flagenv.CheckConsulAddress(os.Getenv("CONSUL_HTTP_ADDR")); err != nil {
		return c, err
	}
	c.allocID = os.Getenv("NOMAD_ALLOC_ID")
	if c.drain < 0 || c.resync <= 0 || c.checkInterval <= 0 {
		return c, fmt.Errorf("-drain must be >= 0, -resync and -check-interval > 0")
	}
	return c, nil
}

// advertiseHost is the host registered in Consul: -advertise, else the host the listener is
// bound to, which must then be a specific address.
func (c config) advertiseHost(bound *net.TCPAddr) (string, error) {
	if c.advertise != "" {
		return c.advertise, nil
	}
	if bound.IP.IsUnspecified() {
		return "", fmt.Errorf("listening on all interfaces (%s): set -advertise to the address to register", bound)
	}
	return bound.IP.String(), nil
}
