package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	kitconsul "github.com/go-kit/kit/sd/consul"
	kitlog "github.com/go-kit/log"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/consulacl"
	"github.com/example/gokit-nomad/stringsvc/platform/hclogkit"
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
		registrar: kitconsul.NewRegistrar(outcome, reg, registrarLogger(logger.Named("registrar"))),
		outcome:   outcome,
		resync:    resync,
		logger:    logger,
	}
}

// Run registers the instance and keeps it registered until ctx is done. It logs state changes
// once each, not on every check: registered; and the first failure of a streak (registration
// lost, Consul unreachable, or Consul refusing the ACL token), again only if the kind of failure
// changes. Between failed attempts it backs off (see next), so a refusal never turns into a busy
// loop against Consul.
func (k *Keeper) Run(ctx context.Context) {
	wait, registered, reported := time.Duration(0), false, failureNone
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := k.ensure()
		kind := failureKind(err)
		switch {
		case err == nil && !registered:
			k.logger.Info("registered in consul", "address", k.reg.Address, "port", k.reg.Port)
		case err != nil && kind != reported:
			k.reportFailure(err, kind, registered)
		}
		registered, reported = err == nil, kind
		wait = k.next(wait, registered)
	}
}

// reportFailure logs the first failure of a streak, saying why when Consul refused the token.
func (k *Keeper) reportFailure(err error, kind failure, wasRegistered bool) {
	switch {
	case kind == failureUnknownToken:
		k.logger.Warn("consul refused the registration: it does not know the ACL token (set CONSUL_HTTP_TOKEN)", "err", err)
	case kind == failureDenied:
		k.logger.Warn("consul refused the registration: the ACL token lacks service:write on "+k.reg.Name+" (set CONSUL_HTTP_TOKEN)", "err", err)
	case wasRegistered:
		k.logger.Warn("registration lost; registering again", "err", err)
	default:
		k.logger.Warn("cannot register in consul; retrying", "err", err)
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

// Deregister removes the registration, retrying until the agent confirms or ctx is done; then
// its error names the last attempt's failure too. An instance that cannot reach Consul is
// removed by its failing health check instead.
func (k *Keeper) Deregister(ctx context.Context) error {
	wait, last := time.Duration(0), error(nil)
	for {
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w; last attempt: %w", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(wait):
		}
		k.registrar.Deregister()
		if last = k.outcome.last(); last == nil || isNotFound(last) {
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

// failure is the kind of a failed check, so that Run logs a streak of alike failures once.
type failure int

const (
	failureNone         failure = iota // the check succeeded
	failureOther                       // Consul unreachable, TLS trouble, or another error
	failureDenied                      // HTTP 403: the token lacks a permission ("Permission denied")
	failureUnknownToken                // HTTP 403: Consul does not know the token ("ACL not found")
)

// failureKind tells an ACL refusal (Consul answers 403) from any other failure. With ACLs in
// default-deny mode, a missing token acts as the anonymous token and is denied like a weak one.
func failureKind(err error) failure {
	switch {
	case err == nil:
		return failureNone
	case consulacl.Classify(err) == consulacl.UnknownToken:
		return failureUnknownToken
	case consulacl.Classify(err) == consulacl.Denied:
		return failureDenied
	}
	return failureOther
}

// registrarLogger is the logger of go-kit's Registrar, which logs each failed attempt as an
// error: those lines go to l at Debug level, since Run reports a streak of failures once and
// Deregister returns the last one. Its other lines go through as hclogkit.Adapt logs them.
func registrarLogger(l hclog.Logger) kitlog.Logger {
	adapted := hclogkit.Adapt(l)
	return kitlog.LoggerFunc(func(keyvals ...any) error {
		for i := 0; i+1 < len(keyvals); i += 2 {
			if keyvals[i] == "err" {
				l.Debug("consul call failed", "err", keyvals[i+1])
				return nil
			}
		}
		return adapted.Log(keyvals...)
	})
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
