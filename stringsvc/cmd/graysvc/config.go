package main

import (
	"errors"
	"flag"
	"os"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/flagenv"
)

// config is everything graysvc reads from flags and the environment (GRAYSVC_<FLAG>). Consul is
// found through consul/api's standard variables, as stringsvc finds it.
type config struct {
	listen        string
	service       string
	checkInterval time.Duration
	resync        time.Duration
	drain         time.Duration
	logJSON       bool
	logLevel      string
	faults        faults
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("graysvc", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address to listen on; port 0 picks a free port")
	fs.StringVar(&c.service, "service", "stringsvc", "Consul service name")
	fs.DurationVar(&c.checkInterval, "check-interval", time.Second, "interval (and timeout) of Consul's HTTP health check")
	fs.DurationVar(&c.resync, "resync", 2*time.Second, "how often to confirm the registration is still in Consul")
	fs.DurationVar(&c.drain, "drain", 0, "on SIGTERM/SIGINT: time to keep serving after deregistering")
	fs.BoolVar(&c.logJSON, "log-json", false, "log as JSON lines")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	f := &c.faults
	fs.DurationVar(&f.delay, "delay", 0, "added before answering a service request")
	fs.Float64Var(&f.delayShare, "delay-share", 1, "share (0..1) of service requests delayed, chosen at random")
	fs.Float64Var(&f.errorShare, "error-share", 0, `share (0..1) of service requests answered 500 {"err":"injected failure"}, chosen at random`)
	fs.DurationVar(&f.stallEvery, "stall-every", 0, "a stall starts every this long (0: never); service requests are held until it ends")
	fs.DurationVar(&f.stallFor, "stall-for", 0, "how long each stall lasts (less than -stall-every)")
	if err := flagenv.Parse(fs, args, map[string]string{
		"listen":         "GRAYSVC_LISTEN",
		"service":        "GRAYSVC_SERVICE",
		"check-interval": "GRAYSVC_CHECK_INTERVAL",
		"resync":         "GRAYSVC_RESYNC",
		"drain":          "GRAYSVC_DRAIN",
		"log-json":       "GRAYSVC_LOG_JSON",
		"log-level":      "GRAYSVC_LOG_LEVEL",
		"delay":          "GRAYSVC_DELAY",
		"delay-share":    "GRAYSVC_DELAY_SHARE",
		"error-share":    "GRAYSVC_ERROR_SHARE",
		"stall-every":    "GRAYSVC_STALL_EVERY",
		"stall-for":      "GRAYSVC_STALL_FOR",
	}); err != nil {
		return c, err
	}
	if err := flagenv.CheckConsulAddress(os.Getenv("CONSUL_HTTP_ADDR")); err != nil {
		return c, err
	}
	if c.drain < 0 || c.resync <= 0 || c.checkInterval <= 0 {
		return c, errors.New("-drain must be >= 0, -resync and -check-interval > 0")
	}
	return c, c.faults.validate()
}
