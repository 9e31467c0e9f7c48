// Package lifecycle runs the life of a server of the stringsvc contract (stringsvc itself, and
// graysvc, its gray-failure stand-in) the one way both need it: serve, keep the instance
// registered in Consul, and when told to stop, leave Consul first, keep serving while gateways
// notice (the drain), then stop taking requests and wait for those in flight.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
	"github.com/example/gokit-nomad/stringsvc/registry"
)

// Health is the instance's health check: 200 while it serves, 503 once it drains.
type Health struct{ draining atomic.Bool }

func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if h.draining.Load() {
		_ = contract.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	_ = contract.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Instance is what Run runs.
type Instance struct {
	Server   *http.Server
	Listener net.Listener // served through linger.OnClose: a refused large body ends in a FIN, not a reset
	Keeper   *registry.Keeper
	Health   *Health
	// Drain is how long the instance keeps serving after it left Consul; ShutdownTimeout bounds
	// the wait for the requests in flight after that.
	Drain, ShutdownTimeout time.Duration
	Logger                 hclog.Logger
}

// Run serves in until stop is done (a signal), then deregisters, drains and shuts down; it
// returns nil after a clean shutdown, or why serving or shutting down failed.
func Run(stop context.Context, in Instance) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- in.Server.Serve(linger.OnClose(in.Listener)) }()
	kept := in.Keeper.Start()

	select {
	case err := <-serveErr:
		kept.Stop()
		return fmt.Errorf("serving: %w", err)
	case <-stop.Done():
	}

	// Leave Consul first, keep serving while gateways notice, then stop taking requests.
	in.Logger.Info("stopping: deregistering, then draining", "drain", in.Drain)
	kept.Stop()
	in.Health.draining.Store(true)
	if err := kept.Leave(5 * time.Second); err != nil {
		in.Logger.Warn("could not deregister; consul's health check will remove this instance", "err", err)
	}
	time.Sleep(in.Drain)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), in.ShutdownTimeout)
	defer cancelShutdown()
	if err := in.Server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	in.Logger.Info("stopped")
	return nil
}
