// Package flagenv gives command-line flags defaults from environment variables, so that a binary
// is configured the same way by hand (flags) and by a scheduler such as Nomad (env). A flag given
// on the command line wins over its variable, and the variable wins over the built-in default.
// NomadAddr reads the address Nomad hands out for a task's network port; ListenAddr makes it the
// default listen address. CheckConsulAddress checks the standard CONSUL_HTTP_ADDR both binaries
// take through consul/api.
package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// Apply sets each flag named in envByFlag from its environment variable when that is set, and
// adds the variable's name to the flag's usage text. Call it after defining the flags and before
// fs.Parse. A malformed value is an error that names the variable.
func Apply(fs *flag.FlagSet, envByFlag map[string]string) error {
	for name, env := range envByFlag {
		f := fs.Lookup(name)
		if f == nil {
			return fmt.Errorf("flagenv: no flag -%s for %s", name, env)
		}
		f.Usage += " (env " + env + ")"
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	}
	return nil
}

// Parse applies envByFlag (see Apply), then parses args. A bad flag is only an error, which the
// caller prints as one line (the flag package would print the whole usage after it); -h and -help
// print the usage to stderr and return flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string, envByFlag map[string]string) error {
	if err := Apply(fs, envByFlag); err != nil {
		return err
	}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
	}
	return err
}

// CheckConsulAddress reports what is wrong with a Consul HTTP address in the forms consul/api
// takes from CONSUL_HTTP_ADDR: host:port, http:// or https://host:port, unix://path; empty means
// consul/api's default. consul/api itself accepts any string and fails only at each request, so
// a typo would show as an endless series of failed registrations or queries instead of one line.
func CheckConsulAddress(addr string) error {
	if addr == "" {
		return nil
	}
	bad := func(why string, args ...any) error {
		return fmt.Errorf("CONSUL_HTTP_ADDR=%q: %s", addr, fmt.Sprintf(why, args...))
	}
	hostport := addr
	if scheme, rest, found := strings.Cut(addr, "://"); found {
		switch scheme {
		case "unix":
			if rest == "" {
				return bad("no socket path after unix://")
			}
			return nil
		case "http", "https":
			hostport = strings.TrimSuffix(rest, "/")
		default:
			return bad("scheme %q is not http, https or unix", scheme)
		}
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return bad("not host:port (%v)", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("port %q is not a number from 1 to 65535", port)
	}
	if strings.ContainsAny(host, " \t/?#@") {
		return bad("host %q is not a host name or address", host)
	}
	return nil
}

// NomadAddr returns the "ip:port" Nomad hands a task for the network port with this label
// (NOMAD_IP_<label> and NOMAD_PORT_<label>), and whether both are set.
func NomadAddr(label string) (string, bool) {
	ip, port := os.Getenv("NOMAD_IP_"+label), os.Getenv("NOMAD_PORT_"+label)
	if ip == "" || port == "" {
		return "", false
	}
	return net.JoinHostPort(ip, port), true
}

// ListenAddr returns the address to listen on, after Parse: the flag named name when it was set
// (on the command line or through its variable), else Nomad's address for the port label, else the
// flag's default. Nomad's address is the default, not an override, so that a job can still choose
// another bind address, such as 0.0.0.0 behind a VM's port forward.
func ListenAddr(fs *flag.FlagSet, name, label string) string {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == name })
	f := fs.Lookup(name)
	if explicit {
		return f.Value.String()
	}
	if addr, ok := NomadAddr(label); ok {
		return addr
	}
	return f.Value.String()
}
