package discovery

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/consulacl"
)

// aclNotes tells the operator, once per state change, that Consul's ACLs hide instances from the
// gateway. With ACLs in default-deny mode a missing or weak token does not fail the health query:
// Consul answers 200 and leaves out every instance the token may not see (seeing one takes
// service:read on the service and node:read on its node). Without a note such a gateway would look
// as if no instance were running. Consul tells the two cases apart differently:
//   - a token without enough rights: the answer is flagged (X-Consul-Results-Filtered-By-ACLs,
//     api.QueryMeta.ResultsFilteredByACLs);
//   - no token at all: Consul never flags answers to a request without a token (Consul 1.13,
//     maskResultsFilteredByACLs), so when an answer is empty and Consul's default policy is deny,
//     the gateway asks Consul once whether it knows the token it sends (GET /v1/acl/token/self:
//     403 "ACL not found" for none).
//
// While Consul hides instances, the gateway does not block on its queries: Consul 1.13 answers
// blocking health queries from its streaming backend (use_streaming_backend, on by default), whose
// answers are never flagged and which keeps the rights a token had when the watch began: a later
// change to the anonymous token (no token sent) never reaches it. So it asks afresh (index 0,
// answered from the catalog with the token's current rights) once per wait bound instead (pace).
//
// Only an unknown token makes Consul refuse the query itself (403, "ACL not found"): queryFailed.
type aclNotes struct {
	// self asks Consul about the token the gateway sends (see selfCheck); nil: never ask.
	self   func(context.Context) error
	hidden atomic.Bool  // the last answer hid instances
	token  atomic.Int32 // what self found: tokenUnknown, tokenNone or tokenKnown
}

// What aclNotes found out about the gateway's token.
const (
	tokenUnknown int32 = iota // not asked yet, or Consul did not answer
	tokenNone                 // Consul does not know it: the gateway sends no token
	tokenKnown                // Consul knows it
)

// selfCheck returns aclNotes.self for client: it reads the token client sends, within 2 s.
func selfCheck(client *api.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, _, err := client.ACL().TokenReadSelf((&api.QueryOptions{}).WithContext(ctx))
		return err
	}
}

// pace readies the next query: while Consul hides instances it waits for wait (or until ctx
// ends, returning its error), then asks for the current state (WaitIndex 0) instead of blocking.
func (n *aclNotes) pace(ctx context.Context, wait time.Duration, opts *api.QueryOptions) error {
	if !n.hidden.Load() {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
	}
	opts.WaitIndex = 0
	return nil
}

// answered notes one answer of Consul: it logs when answers start hiding instances, and when
// they stop.
func (n *aclNotes) answered(ctx context.Context, logger hclog.Logger, service string, entries []*api.ServiceEntry, meta *api.QueryMeta) {
	why := n.hiding(ctx, service, entries, meta)
	switch was := n.hidden.Swap(why != ""); {
	case why != "" && !was:
		logger.Warn(why, "service", service, "instances_visible", len(entries))
	case why == "" && was:
		logger.Info("consul no longer hides instances from this token", "service", service, "instances", len(entries))
	}
}

// hiding returns why Consul hid instances in this answer, or "" if it did not.
func (n *aclNotes) hiding(ctx context.Context, service string, entries []*api.ServiceEntry, meta *api.QueryMeta) string {
	switch {
	case meta == nil:
		return ""
	case meta.ResultsFilteredByACLs:
		return "consul hid instances from this token: it lacks service:read on " + service + " or node:read (set CONSUL_HTTP_TOKEN)"
	case len(entries) == 0 && meta.DefaultACLPolicy == "deny" && n.tokenless(ctx):
		return "consul shows no instance to a gateway without an ACL token: its ACLs deny by default (set CONSUL_HTTP_TOKEN to a token with service:read on " + service + " and node:read)"
	}
	return ""
}

// tokenless reports whether the gateway sends no token Consul knows, asking Consul until it
// answers (the token does not change while the gateway runs).
func (n *aclNotes) tokenless(ctx context.Context) bool {
	if n.self == nil {
		return false
	}
	if n.token.Load() == tokenUnknown {
		switch err := n.self(ctx); {
		case err == nil:
			n.token.Store(tokenKnown)
		case isRefusal(err):
			n.token.Store(tokenNone)
		}
	}
	return n.token.Load() == tokenNone
}

// queryFailed logs the first failure of a streak of failed queries: a refusal of the token
// (HTTP 403) as such, anything else as Consul being unreachable.
func queryFailed(logger hclog.Logger, service string, err error) {
	if isRefusal(err) {
		logger.Warn("consul refused the query: the ACL token is unknown or lacks service:read on "+service+" (set CONSUL_HTTP_TOKEN)",
			"service", service, "err", err)
		return
	}
	logger.Warn("consul unreachable; keeping the instances known so far", "service", service, "err", err)
}

// isRefusal reports whether Consul refused a request for its ACL token (HTTP 403).
func isRefusal(err error) bool { return consulacl.Classify(err) != consulacl.NotRefused }
