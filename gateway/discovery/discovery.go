// Package discovery finds what the gateway routes to in Consul, hardened for Consul restarts
// and outages: the services and their route declarations in the catalog (WatchCatalog), and the
// passing instances of each service through go-kit's sd/consul Instancer (NewInstancer), with
// what each instance declares (Declarations) and a view per route (Filter).
package discovery

import (
	"context"
	"sync/atomic"
	"time"

	kitconsul "github.com/go-kit/kit/sd/consul"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/hclogkit"
)

// maxRetryWait bounds the wait between queries while Consul is unreachable, so discovery resumes
// within about a second of Consul coming back (go-kit's own backoff grows to a minute).
const maxRetryWait = time.Second

// Recorder takes note of every answer with instances (Sightings, Declarations, Health).
type Recorder interface {
	Record(entries []*api.ServiceEntry)
}

// noPassingRecorder is a Recorder that also takes note of the answers with no passing instance
// that the instancer holds back (Health).
type noPassingRecorder interface {
	RecordNoPassing(service string)
}

// NewInstancer returns a go-kit Instancer of the passing instances of service. It keeps the last
// known instances while Consul is unreachable (ctx ends its retries; Stop the Instancer too), and
// hands every answer with instances to the recorders first.
//
// wait bounds each blocking query: after a Consul agent restart, the index starts again from
// scratch and a query still holding the old, higher index would otherwise block for Consul's
// default five minutes while the instance set changes underneath.
func NewInstancer(ctx context.Context, client *api.Client, service string, wait time.Duration, logger hclog.Logger, recorders ...Recorder) *kitconsul.Instancer {
	c := &resilientClient{Client: kitconsul.NewClient(client), ctx: ctx, wait: wait, recorders: recorders, logger: logger}
	c.acl.self = selfCheck(client)
	return kitconsul.NewInstancer(c, hclogkit.Adapt(logger), service, nil, true)
}

// resilientClient bounds every blocking query and retries failed ones itself, quickly and without
// end, instead of handing the error to go-kit's instancer (which would back off up to a minute).
//
// It also fails static: once instances were known, an answer with none is not passed on. The
// query blocks on until some instance passes again, and meanwhile the gateway keeps the last known
// instances, guarded by their breakers. A Consul agent that restarted empty, or a check outage on
// the agent's side, so does not turn into "no instances" for every request; instances that are
// really gone fail fast (connection refused), open their breakers, and the gateway answers 503.
type resilientClient struct {
	kitconsul.Client
	ctx       context.Context
	wait      time.Duration
	recorders []Recorder
	logger    hclog.Logger
	started   atomic.Bool // the first query was made
	known     atomic.Bool // some answer had instances
	failing   atomic.Bool // the last query failed
	empty     atomic.Bool // the last answer had no instances and was held back
	acl       aclNotes    // what Consul's ACLs hide or refuse (acl.go)
}

func (c *resilientClient) Service(service, tag string, passingOnly bool, q *api.QueryOptions) ([]*api.ServiceEntry, *api.QueryMeta, error) {
	opts := *q
	opts.WaitTime = c.wait
	if c.failing.Load() {
		// Consul may have restarted with a lower index: ask for the current state at once.
		opts.WaitIndex = 0
	}
	// go-kit's constructor makes the first query synchronously: it must not block, so that the
	// gateway serves (503s) before Consul is up; the instancer's loop then retries through here.
	first := !c.started.Swap(true)
	retry := 50 * time.Millisecond
	for {
		if err := c.acl.pace(c.ctx, c.wait, &opts); err != nil {
			return nil, nil, err
		}
		entries, meta, err := c.Client.Service(service, tag, passingOnly, opts.WithContext(c.ctx))
		switch {
		case err == nil && len(entries) == 0 && c.known.Load():
			c.recovered(service)
			c.acl.answered(c.ctx, c.logger, service, entries, meta)
			if !c.empty.Swap(true) {
				c.logger.Warn("consul reports no passing instance; keeping the last known ones", "service", service)
				for _, r := range c.recorders {
					if nr, ok := r.(noPassingRecorder); ok {
						nr.RecordNoPassing(service)
					}
				}
			}
			opts.WaitIndex = meta.LastIndex // block until the set changes (or the wait bound)
			continue
		case err == nil:
			c.recovered(service)
			c.acl.answered(c.ctx, c.logger, service, entries, meta)
			if len(entries) > 0 {
				for _, r := range c.recorders {
					r.Record(entries)
				}
			}
			if c.empty.Swap(false) {
				c.logger.Info("instances pass again", "service", service, "instances", len(entries))
			}
			if len(entries) > 0 {
				c.known.Store(true)
			}
			return entries, meta, nil
		case c.ctx.Err() != nil:
			return nil, nil, c.ctx.Err()
		}
		if !c.failing.Swap(true) {
			queryFailed(c.logger, service, err)
		}
		if first {
			return nil, nil, err
		}
		opts.WaitIndex = 0
		select {
		case <-c.ctx.Done():
			return nil, nil, c.ctx.Err()
		case <-time.After(retry):
		}
		retry = min(2*retry, maxRetryWait)
	}
}

// recovered logs the end of an outage.
func (c *resilientClient) recovered(service string) {
	if c.failing.Swap(false) {
		c.logger.Info("consul reachable again", "service", service)
	}
}
