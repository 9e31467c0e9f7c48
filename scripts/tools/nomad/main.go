// Command nomad runs the Nomad v1.6.1 CLI and agent, built through the Go module proxy so that
// tests and dev runs have a real Nomad on machines where HashiCorp's downloads cannot be reached.
package main

import (
	"fmt"
	"os"

	// Nomad re-executes its own binary for task helpers ("nomad executor", "nomad logmon", ...).
	// These packages' init functions recognise those invocations, so they must be linked in and
	// initialised before anything else, exactly as Nomad's own main package does.
	_ "github.com/hashicorp/nomad/client/allocrunner/taskrunner/getter"
	_ "github.com/hashicorp/nomad/client/logmon"
	_ "github.com/hashicorp/nomad/drivers/docker/docklog"
	_ "github.com/hashicorp/nomad/drivers/shared/executor"

	"github.com/hashicorp/nomad/command"
	"github.com/hashicorp/nomad/version"
	"github.com/mitchellh/cli"
)

// hidden lists the helper sub-commands Nomad starts itself; they stay out of the help text.
var hidden = []string{"executor", "logmon", "docker_logger", "syslog"}

func main() {
	meta := new(command.Meta)
	meta.SetupUi(os.Args[1:])
	agentUI := &cli.BasicUi{Reader: os.Stdin, Writer: os.Stdout, ErrorWriter: os.Stderr}

	c := &cli.CLI{
		Name:           "nomad",
		Version:        version.GetVersion().FullVersionNumber(true),
		Args:           os.Args[1:],
		Commands:       command.Commands(meta, agentUI),
		HiddenCommands: hidden,
		HelpFunc:       cli.BasicHelpFunc("nomad"),
		HelpWriter:     os.Stdout,
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nomad: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}
