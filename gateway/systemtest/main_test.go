//go:build integration

package systemtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// bins are the programs under test, from the environment (see scripts/test.sh).
// graysvc is a degraded stringsvc stand-in (stringsvc/cmd/graysvc) for the overload and
// gray-failure tests.
// prometheus and promtool are Debian's (scripts/deps.sh): the Nomad job runs the one, the
// monitoring steps of the end-to-end test check with the other.
var bins = struct{ consul, nomad, stringsvc, gateway, graysvc, prometheus, promtool string }{
	consul:     os.Getenv("CONSUL_BIN"),
	nomad:      os.Getenv("NOMAD_BIN"),
	stringsvc:  os.Getenv("STRINGSVC_BIN"),
	gateway:    os.Getenv("GATEWAY_BIN"),
	graysvc:    os.Getenv("GRAYSVC_BIN"),
	prometheus: os.Getenv("PROMETHEUS_BIN"),
	promtool:   os.Getenv("PROMTOOL_BIN"),
}

func TestMain(m *testing.M) {
	if err := checkEnvironment(); err != nil {
		fmt.Fprintln(os.Stderr, "systemtest:", err)
		fmt.Fprintln(os.Stderr, "systemtest: run these tests through scripts/test.sh system")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// checkEnvironment refuses to run outside a loopback-only network namespace (agents and load
// must never reach another address) or without the binaries.
func checkEnvironment() error {
	for name, path := range map[string]*string{
		"CONSUL_BIN": &bins.consul, "NOMAD_BIN": &bins.nomad, "STRINGSVC_BIN": &bins.stringsvc, "GATEWAY_BIN": &bins.gateway,
		"GRAYSVC_BIN": &bins.graysvc, "PROMETHEUS_BIN": &bins.prometheus, "PROMTOOL_BIN": &bins.promtool,
	} {
		if *path == "" {
			return fmt.Errorf("%s is not set", name)
		}
		// Absolute and without symlinks: the jobs run them from elsewhere, and the Nomad test
		// tells Nomad's helper processes apart by their executable.
		resolved, err := filepath.EvalSymlinks(*path)
		if err == nil {
			resolved, err = filepath.Abs(resolved)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*path = resolved
	}
	if filepath.Dir(bins.stringsvc) != filepath.Dir(bins.gateway) {
		return fmt.Errorf("STRINGSVC_BIN and GATEWAY_BIN must be in one directory (the release scripts/artifacts.sh publishes)")
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("network interface %q is not loopback: not in a loopback-only namespace", iface.Name)
		}
	}
	if os.Getenv("CHECKPOINT_DISABLE") == "" {
		return fmt.Errorf("CHECKPOINT_DISABLE is not set")
	}
	return nil
}
