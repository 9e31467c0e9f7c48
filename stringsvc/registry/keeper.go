package registry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	kitconsul "github.com/go-kit/kit/sd/consul"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/hclogkit"
)

// minRetry is the first wait after a failed attempt; waits double up to the resync interval.
const minRetry = 100 * time.Millisecond

// Keeper keeps one registration in the local Consul agent. Run and Deregister must not be called
// concurrently: Deregister belongs after Run has returned.
type Keeper struct {
	agent     *api.Agent
	reg       *api.AgentServiceRegistration
	registrar *kitconsul.Registrar
	outcome   *outcomeClient
	resync    time.Duration
	logger    hclog.Logger
}

// NewKeeper returns a Keeper for reg that checks every resync that the agent still has it. Its
// log lines do not repeat the instance ID: give it a logger that carries it.
func NewKeeper(client *api.Client, reg *api.AgentServiceRegistration, resync time.Duration, logger hclog.Logger) *Keeper {
	outcome := &outcomeClient{Client: kitconsul.NewClient(client)}
	return &Keeper{
		agent:     client.Agent(),
		reg:       reg,
		registrar: kitconsul.NewRegistrar(outcome, reg, hclogkit.Adapt(logger.Named("registrar"))),
		outcome:   outcome,
		resync:    resync,
		logger:    logger,
	}
}

// Run registers the instance and keeps it registered until ctx is done. It logs state changes
// (registered, lost, Consul unreachable) once each, not on every check.
func (k *Keeper) Run(ctx context.Context) {
	wait, registered := time.Duration(0), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := k.ensure()
		switch {
		case err == nil && !registered:
			k.logger.Info("registered in consul", "address", k.reg.Address, "port", k.reg.Port)
		case err != nil && registered:
			k.logger.Warn("registration lost; registering again", "err", err)
		}
		registered = err == nil
		wait = k.next(wait, registered)
	}
}

// next is the wait before the following check: the resync interval while registered, else a
// doubling backoff from minRetry up to the resync interval.
func (k *Keeper) next(prev time.Duration, registered bool) time.Duration {
	if registered {
		return k.resync
	}
	return min(max(2*prev, minRetry), k.resync)
}

// ensure confirms the agent has the registration and registers it when it does not.
func (k *Keeper) ensure() error {
	_, _, err := k.agent.Service(k.reg.ID, nil)
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return err // agent unreachable: registering cannot work either
	}
	k.registrar.Register()
	return k.outcome.last()
}

// Deregister removes the registration, retrying until the agent confirms or ctx is done. An
// instance that cannot reach Consul is removed by its failing health check instead.
func (k *Keeper) Deregister(ctx context.Context) error {
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		k.registrar.Deregister()
		if err := k.outcome.last(); err == nil || isNotFound(err) {
			k.logger.Info("deregistered from consul")
			return nil
		}
		wait = min(max(2*wait, minRetry), time.Second)
	}
}

func isNotFound(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// outcomeClient records the result of the last Register/Deregister, which go-kit's Registrar
// only logs.
type outcomeClient struct {
	kitconsul.Client
	mu  sync.Mutex
	err error
}

func (c *outcomeClient) Register(r *api.AgentServiceRegistration) error {
	return c.record(c.Client.Register(r))
}

func (c *outcomeClient) Deregister(r *api.AgentServiceRegistration) error {
	return c.record(c.Client.Deregister(r))
}

func (c *outcomeClient) record(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	return err
}

func (c *outcomeClient) last() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
