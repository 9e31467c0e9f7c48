package discovery

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// Catalog is the set of services Consul lists, each with the union of its instances' tags, as
// WatchCatalog reports it.
type Catalog map[string][]string

// CatalogSettings tune WatchCatalog.
type CatalogSettings struct {
	// Wait bounds each blocking query, as for the instancers (NewInstancer).
	Wait time.Duration
	// Grace is how long a service stays reported after Consul stopped listing it. A Consul
	// agent that restarts forgets every service until the services register again (stringsvc
	// checks every 2 s): without it, their routes would answer 404 meanwhile.
	Grace time.Duration
	// Health, if set, records whether each query got an answer.
	Health *Health
}

// WatchCatalog reports the services of Consul's catalog to report, at once after each change,
// until ctx ends; it blocks meanwhile. It follows the catalog with blocking queries (GET
// /v1/catalog/services) and fails static: while Consul is unreachable nothing is reported, so
// the routes stay as they were. A service Consul stops listing is reported for s.Grace more (with
// its last tags), then left out. The first report comes with Consul's first answer.
func WatchCatalog(ctx context.Context, client *api.Client, s CatalogSettings, logger hclog.Logger, report func(Catalog)) {
	w := catalogWatch{tags: Catalog{}, gone: map[string]time.Time{}, grace: s.Grace}
	acl := aclNotes{self: selfCheck(client)}
	var index uint64
	failing, tokenless := false, false
	retry := 50 * time.Millisecond
	for ctx.Err() == nil {
		wait := s.Wait
		if next, ok := w.nextExpiry(); ok {
			// A service in its grace is dropped on time even if the catalog does not change.
			wait = min(wait, max(time.Until(next), 0)+10*time.Millisecond)
		}
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: wait}).WithContext(ctx)
		services, meta, err := client.Catalog().Services(q)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.Health.setReachable(false)
			if !failing {
				failing = true
				logger.Warn("consul unreachable; keeping the routes known so far", "err", err)
			}
			index = 0 // Consul may come back with a lower index: ask for the current state
			sleep(ctx, retry)
			retry = min(2*retry, maxRetryWait)
			continue
		}
		s.Health.setReachable(true)
		if failing {
			failing = false
			logger.Info("consul reachable again")
		}
		retry = 50 * time.Millisecond
		hidden := len(services) == 0 && meta.DefaultACLPolicy == "deny" && acl.tokenless(ctx)
		if hidden != tokenless {
			tokenless = hidden
			if hidden {
				logger.Warn(msgCatalogTokenless)
			} else {
				logger.Info(msgCatalogShown, "services", len(services))
			}
		}
		if !hidden {
			// An empty catalog shown to a gateway without a token says nothing of the services.
			report(w.update(services, time.Now()))
		}
		if meta.LastIndex < index {
			index = 0 // the index went backwards (a Consul that started afresh): start again
		} else {
			index = meta.LastIndex
		}
	}
}

// msgCatalogTokenless: Consul (ACLs on, deny by default) lists no service to a gateway without
// a token. Consul never flags such answers as filtered (see aclNotes).
const msgCatalogTokenless = "consul shows no service to a gateway without an ACL token: its ACLs deny by default (set CONSUL_HTTP_TOKEN to a token with service:read on the services to route and node:read)"

// msgCatalogShown: Consul shows services again to a gateway it showed none.
const msgCatalogShown = "consul no longer hides services from this token"

// catalogWatch is the catalog as last reported, services in their grace included.
type catalogWatch struct {
	tags  Catalog
	gone  map[string]time.Time // when Consul stopped listing a service still reported
	grace time.Duration
}

// update takes Consul's answer and returns what to report.
func (w *catalogWatch) update(services map[string][]string, now time.Time) Catalog {
	for name := range w.tags {
		if _, listed := services[name]; !listed {
			if _, ok := w.gone[name]; !ok {
				w.gone[name] = now
			}
		}
	}
	for name, tags := range services {
		w.tags[name] = slices.Clone(tags)
		delete(w.gone, name)
	}
	for name, since := range w.gone {
		if now.Sub(since) >= w.grace {
			delete(w.gone, name)
			delete(w.tags, name)
		}
	}
	return maps.Clone(w.tags)
}

// nextExpiry is when the next service in its grace is to be dropped.
func (w *catalogWatch) nextExpiry() (time.Time, bool) {
	var next time.Time
	for _, since := range w.gone {
		if end := since.Add(w.grace); next.IsZero() || end.Before(next) {
			next = end
		}
	}
	return next, !next.IsZero()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
