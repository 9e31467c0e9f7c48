// Command consul runs the Consul v1.13.9 CLI, built through the Go module proxy so that tests and
// dev runs have a real agent on machines where HashiCorp's downloads cannot be reached.
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/hashicorp/consul/command"
	consulcli "github.com/hashicorp/consul/command/cli"
	"github.com/hashicorp/consul/command/version"
	"github.com/mitchellh/cli"
)

func main() {
	log.SetOutput(io.Discard) // Consul logs through hclog; stray std-log output is noise.

	ui := &consulcli.BasicUI{BasicUi: cli.BasicUi{Writer: os.Stdout, ErrorWriter: os.Stderr}}
	commands := command.RegisteredCommands(ui)
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	c := &cli.CLI{
		Name:        "consul",
		Args:        os.Args[1:],
		Commands:    commands,
		HelpFunc:    cli.FilteredHelpFunc(names, cli.BasicHelpFunc("consul")),
		HelpWriter:  os.Stdout,
		ErrorWriter: os.Stderr,
	}
	if c.IsVersion() {
		os.Exit(version.New(ui).Run(nil))
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "consul: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}
