package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestNomadAddressIsTheDefaultListenAddress(t *testing.T) {
	t.Setenv("NOMAD_IP_http", "127.0.0.9")
	t.Setenv("NOMAD_PORT_http", "23456")
	t.Setenv("NOMAD_ALLOC_ID", "8f1c")
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.9:23456" || c.allocID != "8f1c" {
		t.Fatalf("listen=%q alloc=%q, want Nomad's address and alloc ID", c.listen, c.allocID)
	}
}

func TestExplicitListenWinsOverNomadAddress(t *testing.T) {
	t.Setenv("NOMAD_IP_http", "127.0.0.9")
	t.Setenv("NOMAD_PORT_http", "23456")
	c, err := parseConfig([]string{"-listen", "127.0.0.1:9999"})
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.1:9999" {
		t.Fatalf("listen=%q, want the -listen flag", c.listen)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Setenv("STRINGSVC_DRAIN", "7s")
	t.Setenv("STRINGSVC_SERVICE", "strings-canary")
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.drain != 7*time.Second || c.service != "strings-canary" || c.listen != "127.0.0.1:0" {
		t.Fatalf("drain=%v service=%q listen=%q", c.drain, c.service, c.listen)
	}
}

func TestBadConfigIsAnError(t *testing.T) {
	for _, args := range [][]string{{"-drain", "-1s"}, {"-resync", "0s"}, {"-check-interval", "0s"}, {"-drain", "soon"}} {
		if _, err := parseConfig(args); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

func TestAdvertiseHost(t *testing.T) {
	bound := func(ip string) *net.TCPAddr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 1234} }
	if host, err := (config{}).advertiseHost(bound("127.0.0.5")); err != nil || host != "127.0.0.5" {
		t.Fatalf("got %q %v, want the bound host", host, err)
	}
	if host, err := (config{advertise: "10.0.0.7"}).advertiseHost(bound("0.0.0.0")); err != nil || host != "10.0.0.7" {
		t.Fatalf("got %q %v, want -advertise", host, err)
	}
	if _, err := (config{}).advertiseHost(bound("0.0.0.0")); err == nil || !strings.Contains(err.Error(), "-advertise") {
		t.Fatalf("unspecified bind address without -advertise: err = %v", err)
	}
}

// A malformed Consul address stops the binary at start, before it listens or registers.
func TestBadConsulAddressIsAnError(t *testing.T) {
	t.Setenv("CONSUL_HTTP_ADDR", "127.0.0.1:notaport")
	if _, err := parseConfig(nil); err == nil || !strings.Contains(err.Error(), "CONSUL_HTTP_ADDR") {
		t.Errorf("parseConfig error = %v, want one naming CONSUL_HTTP_ADDR", err)
	}
}
