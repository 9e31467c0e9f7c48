package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/routing"
	"github.com/example/gokit-nomad/gateway/upstream"
	"github.com/example/gokit-nomad/stringsvc/platform/flagenv"
	"github.com/example/gokit-nomad/stringsvc/platform/routetag"
)

// config is everything the gateway reads from flags and the environment. Consul is found through
// consul/api's standard variables (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_CACERT, ...).
type config struct {
	listen          string
	routesFile      string         // "": none
	fileRoutes      []routing.Spec // read from routesFile at start
	routeGrace      time.Duration
	bodyLimit       int64
	consulWait      time.Duration
	retry           proxy.RetryPolicy // the defaults of every route
	breaker         proxy.BreakerSettings
	outliers        proxy.OutlierSettings
	admission       proxy.AdmissionSettings
	upstream        upstream.Settings
	rateLimit       float64 // requests per second over the whole gateway; 0: no limit
	rateBurst       int
	pprofListen     string
	register        bool   // register the gateway itself in Consul (for monitoring)
	serviceName     string // the name it registers under
	advertise       string // the host it registers; "": see registration.go
	allocID         string // NOMAD_ALLOC_ID, if under Nomad
	shutdownTimeout time.Duration
	logJSON         bool
	logLevel        string
}

func parseConfig(args []string) (config, error) {
	c := config{outliers: proxy.DefaultOutlierSettings(), admission: proxy.DefaultAdmission()}
	c.retry.RetryBudget, c.retry.HedgeQuantile = proxy.DefaultRetryBudget(), proxy.DefaultHedgeQuantile
	var failures uint
	var bodyLimit string
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", ":8080", "address to listen on (default under Nomad: NOMAD_IP_http:NOMAD_PORT_http)")
	fs.StringVar(&c.routesFile, "routes-file", "", "HCL file of routes for services that cannot declare their own (docs/routes.md); reread on SIGHUP")
	fs.DurationVar(&c.routeGrace, "route-grace", 10*time.Second, "how long a service's routes stay after Consul stopped listing it (a restarted Consul agent forgets every service until they register again)")
	fs.StringVar(&bodyLimit, "body-limit", "1MiB", "largest request body of a route that declares none, and the most any route may declare (bytes, KiB or MiB)")
	fs.DurationVar(&c.consulWait, "consul-wait", 10*time.Second, "longest blocking query to Consul (bounds how stale discovery can get after a Consul restart)")
	fs.IntVar(&c.retry.Attempts, "attempts", 3, "most instances one request is sent to (a route may declare its own)")
	fs.DurationVar(&c.retry.TryTimeout, "try-timeout", 250*time.Millisecond, "timeout of each attempt (a route may declare its own)")
	fs.DurationVar(&c.retry.Budget, "budget", time.Second, "total time for one request, all attempts included (a route may declare its own)")
	fs.UintVar(&failures, "breaker-failures", 3, "consecutive failures that open an instance's circuit breaker")
	fs.DurationVar(&c.breaker.Open, "breaker-open", 5*time.Second, "how long an open breaker waits before letting one probe request through (a repeated ejection lasts a multiple of it)")
	fs.DurationVar(&c.outliers.Interval, "outlier-interval", c.outliers.Interval, "window over which each instance's failure rate and latency are compared with its peers'")
	fs.IntVar(&c.outliers.MaxEjectedPercent, "max-ejection-percent", c.outliers.MaxEjectedPercent, "most instances ejected at once, in percent of them (at least one)")
	fs.IntVar(&c.outliers.PanicPercent, "panic-threshold", c.outliers.PanicPercent, "below this percent of instances looking healthy, ejections are ignored (panic mode)")
	fs.BoolVar(&c.retry.Hedge, "hedge", true, "send a slow request of an idempotent route to another instance too (after the route's p95 latency, at least -hedge-min-delay); first answer wins")
	fs.DurationVar(&c.retry.HedgeMinDelay, "hedge-min-delay", proxy.DefaultHedgeMinDelay, "shortest wait before a hedge")
	fs.Float64Var(&c.retry.RetryBudget.Ratio, "retry-budget-ratio", c.retry.RetryBudget.Ratio, "retries and hedges allowed per request, over the last 10 s")
	fs.Float64Var(&c.retry.RetryBudget.MinPerSecond, "retry-budget-min", c.retry.RetryBudget.MinPerSecond, "retries and hedges per second allowed whatever the traffic")
	fs.IntVar(&c.admission.MaxInFlight, "max-inflight", c.admission.MaxInFlight, "ceiling of the adaptive limit on requests in flight to the service (0: no admission control)")
	fs.IntVar(&c.admission.MaxQueue, "max-queue", c.admission.MaxQueue, "most requests waiting for admission; beyond, and when the wait would exceed the budget, 503 at once")
	fs.IntVar(&c.upstream.MaxConns, "max-conns-per-instance", 512, "most connections to one instance (a request waits at most -try-timeout for a free one)")
	fs.Float64Var(&c.rateLimit, "rate-limit", 0, "requests per second the gateway accepts, all routes together (0: no limit); beyond it 429 with Retry-After")
	fs.IntVar(&c.rateBurst, "rate-burst", 0, "requests accepted at once above -rate-limit (0: one second's worth)")
	fs.BoolVar(&c.register, "register", true, "register the gateway itself in Consul, with a health check, so that monitoring finds it (routing never depends on it)")
	fs.StringVar(&c.serviceName, "service-name", "gateway", "Consul service name the gateway registers under (-register)")
	fs.StringVar(&c.advertise, "advertise", "", "host registered in Consul (default: NOMAD_IP_http under Nomad, else the listen host; when listening on all interfaces, Consul's node address)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "longest wait for in-flight requests on SIGTERM/SIGINT")
	fs.StringVar(&c.pprofListen, "pprof-listen", "", "address of a separate listener serving Go's profiles under /debug/pprof/ (off when empty; keep it on loopback)")
	fs.BoolVar(&c.logJSON, "log-json", false, "log as JSON lines")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	if err := flagenv.Parse(fs, args, map[string]string{
		"listen":                 "GATEWAY_LISTEN",
		"routes-file":            "GATEWAY_ROUTES_FILE",
		"route-grace":            "GATEWAY_ROUTE_GRACE",
		"body-limit":             "GATEWAY_BODY_LIMIT",
		"consul-wait":            "GATEWAY_CONSUL_WAIT",
		"attempts":               "GATEWAY_ATTEMPTS",
		"try-timeout":            "GATEWAY_TRY_TIMEOUT",
		"budget":                 "GATEWAY_BUDGET",
		"breaker-failures":       "GATEWAY_BREAKER_FAILURES",
		"breaker-open":           "GATEWAY_BREAKER_OPEN",
		"outlier-interval":       "GATEWAY_OUTLIER_INTERVAL",
		"max-ejection-percent":   "GATEWAY_MAX_EJECTION_PERCENT",
		"panic-threshold":        "GATEWAY_PANIC_THRESHOLD",
		"hedge":                  "GATEWAY_HEDGE",
		"hedge-min-delay":        "GATEWAY_HEDGE_MIN_DELAY",
		"retry-budget-ratio":     "GATEWAY_RETRY_BUDGET_RATIO",
		"retry-budget-min":       "GATEWAY_RETRY_BUDGET_MIN",
		"max-inflight":           "GATEWAY_MAX_INFLIGHT",
		"max-queue":              "GATEWAY_MAX_QUEUE",
		"max-conns-per-instance": "GATEWAY_MAX_CONNS_PER_INSTANCE",
		"rate-limit":             "GATEWAY_RATE_LIMIT",
		"rate-burst":             "GATEWAY_RATE_BURST",
		"shutdown-timeout":       "GATEWAY_SHUTDOWN_TIMEOUT",
		"pprof-listen":           "GATEWAY_PPROF_LISTEN",
		"register":               "GATEWAY_REGISTER",
		"service-name":           "GATEWAY_SERVICE_NAME",
		"advertise":              "GATEWAY_ADVERTISE",
		"log-json":               "LOG_JSON",
		"log-level":              "LOG_LEVEL",
	}); err != nil {
		return c, err
	}
	// Under Nomad, NOMAD_IP_http:NOMAD_PORT_http is the default address; an explicit -listen wins.
	c.listen = flagenv.ListenAddr(fs, "listen", "http")
	if err := flagenv.CheckConsulAddress(os.Getenv("CONSUL_HTTP_ADDR")); err != nil {
		return c, err
	}
	c.allocID = os.Getenv("NOMAD_ALLOC_ID")
	if c.advertise == "" {
		c.advertise = os.Getenv("NOMAD_IP_http")
	}
	c.breaker.Failures = uint32(failures)
	c.admission.InitialInFlight = min(c.admission.InitialInFlight, c.admission.MaxInFlight)
	c.upstream.MaxConnWait = c.retry.TryTimeout
	c.upstream.DialTimeout = time.Second
	c.upstream.IdleTimeout = 90 * time.Second
	switch {
	case c.retry.Attempts < 1 || failures < 1 || c.upstream.MaxConns < 1:
		return c, fmt.Errorf("-attempts, -breaker-failures and -max-conns-per-instance must be at least 1")
	case c.retry.TryTimeout <= 0 || c.retry.Budget < c.retry.TryTimeout:
		return c, fmt.Errorf("-try-timeout must be > 0 and -budget at least -try-timeout")
	case c.outliers.Interval < 10*time.Millisecond || c.retry.HedgeMinDelay <= 0:
		return c, fmt.Errorf("-outlier-interval must be at least 10ms and -hedge-min-delay > 0")
	case c.outliers.MaxEjectedPercent < 0 || c.outliers.MaxEjectedPercent > 100 || c.outliers.PanicPercent < 0 || c.outliers.PanicPercent > 100:
		return c, fmt.Errorf("-max-ejection-percent and -panic-threshold must be from 0 to 100")
	case c.retry.RetryBudget.Ratio < 0 || c.retry.RetryBudget.MinPerSecond < 0:
		return c, fmt.Errorf("-retry-budget-ratio and -retry-budget-min must be at least 0")
	case c.admission.MaxInFlight < 0 || c.admission.MaxInFlight > 0 && c.admission.MaxInFlight < c.admission.MinInFlight || c.admission.MaxQueue < 0:
		return c, fmt.Errorf("-max-inflight must be 0 (off) or at least %d, -max-queue at least 0", c.admission.MinInFlight)
	case c.consulWait < time.Second:
		return c, fmt.Errorf("-consul-wait must be at least 1s")
	case c.register && c.serviceName == "":
		return c, fmt.Errorf("-service-name must not be empty (or -register=false)")
	case c.rateLimit != 0 && c.rateLimit < 1 || c.rateBurst < 0:
		// Retry-After is in whole seconds: a limit under 1 request/s could not be told apart.
		return c, fmt.Errorf("-rate-limit must be 0 (off) or at least 1, -rate-burst at least 0")
	}
	if c.rateLimit > 0 && c.rateBurst == 0 {
		c.rateBurst = int(math.Ceil(c.rateLimit))
	}
	var err error
	if c.bodyLimit, err = routetag.ParseSize(bodyLimit); err != nil || c.bodyLimit > 1<<30 {
		return c, fmt.Errorf("-body-limit: %q is not a size from 1 byte to 1024MiB", bodyLimit)
	}
	if c.routeGrace < 0 {
		return c, fmt.Errorf("-route-grace must be at least 0")
	}
	if c.routesFile != "" {
		if c.fileRoutes, err = routing.LoadFile(c.routesFile, c.routeDefaults()); err != nil {
			return c, err
		}
	}
	return c, nil
}

// routeDefaults are the policy of a route that sets none of its own.
func (c config) routeDefaults() routing.Defaults {
	return routing.Defaults{Attempts: c.retry.Attempts, TryTimeout: c.retry.TryTimeout, Budget: c.retry.Budget,
		Hedge: c.retry.Hedge, BodyLimit: c.bodyLimit}
}
