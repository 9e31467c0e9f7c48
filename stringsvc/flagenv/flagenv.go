// Package flagenv gives command-line flags defaults from environment variables, so that a binary
// is configured the same way by hand (flags) and by a scheduler such as Nomad (env). A flag given
// on the command line wins over its variable, and the variable wins over the built-in default.
// NomadAddr reads the address Nomad hands out for a task's network port; ListenAddr makes it the
// default listen address.
package flagenv

import (
	"flag"
	"fmt"
	"net"
	"os"
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

// Parse applies envByFlag (see Apply), then parses args.
func Parse(fs *flag.FlagSet, args []string, envByFlag map[string]string) error {
	if err := Apply(fs, envByFlag); err != nil {
		return err
	}
	return fs.Parse(args)
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
