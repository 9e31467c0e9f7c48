// Command artifact-server serves a directory of release files over HTTP, read-only, for Nomad's
// artifact blocks: Nomad's artifact sandbox refuses local paths, so a local cluster (scripts/dev.sh,
// scripts/cluster.sh, the Vagrant VMs) downloads the binaries from this server on 127.0.0.1, as a
// real cluster downloads them from its release store. GET and HEAD only, files only (no directory
// listings); every request is logged. It exits on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/hclogkit"
)

func main() {
	flags := flag.NewFlagSet("artifact-server", flag.ContinueOnError)
	listen := flags.String("listen", "127.0.0.1:8070", "address to listen on")
	dir := flags.String("dir", "", "directory to serve (required)")
	logJSON := flags.Bool("log-json", false, "log as JSON")
	if err := flags.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	logger := hclogkit.NewRoot("artifact-server", os.Stderr, "info", *logJSON)
	if err := run(logger, *listen, *dir); err != nil {
		logger.Error("exiting", "err", err)
		os.Exit(1)
	}
}

func run(logger hclog.Logger, listen, dir string) error {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("-dir %q: not a directory", dir)
	}
	server := &http.Server{
		Addr:              listen,
		Handler:           newHandler(dir, logger),
		ReadHeaderTimeout: 5 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.ListenAndServe() }()
	logger.Info("serving", "dir", dir, "listen", listen)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("stopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return server.Shutdown(shutdown)
}
