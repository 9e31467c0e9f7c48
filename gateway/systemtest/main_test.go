//go:build integration

package systemtest

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// bins are the programs under test, from the environment (see scripts/test.sh).
var bins = struct{ consul, stringsvc, gateway string }{
	consul:    os.Getenv("CONSUL_BIN"),
	stringsvc: os.Getenv("STRINGSVC_BIN"),
	gateway:   os.Getenv("GATEWAY_BIN"),
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
	for name, path := range map[string]string{"CONSUL_BIN": bins.consul, "STRINGSVC_BIN": bins.stringsvc, "GATEWAY_BIN": bins.gateway} {
		if path == "" {
			return fmt.Errorf("%s is not set", name)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
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
