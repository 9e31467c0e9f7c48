package discovery

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	kitconsul "github.com/go-kit/kit/sd/consul"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// scriptedConsul answers Service queries with the scripted results in turn: an error, or that
// many instances (errors are error values, counts are ints); once the script is done, with
// `instances` instances. It records the query options it was given.
type scriptedConsul struct {
	kitconsul.Client
	mu        sync.Mutex
	results   []any
	instances int
	queries   []api.QueryOptions
}

func (s *scriptedConsul) Service(service, _ string, _ bool, q *api.QueryOptions) ([]*api.ServiceEntry, *api.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, *q)
	n := s.instances
	if len(s.results) > 0 {
		next := s.results[0]
		s.results = s.results[1:]
		if err, ok := next.(error); ok {
			return nil, nil, err
		}
		n = next.(int)
	}
	entries := make([]*api.ServiceEntry, n)
	for i := range entries {
		entries[i] = &api.ServiceEntry{Service: &api.AgentService{Service: service, Port: 9000 + i}}
	}
	return entries, &api.QueryMeta{LastIndex: uint64(40 + len(s.queries))}, nil
}

func newTestClient(ctx context.Context, results ...any) (*resilientClient, *scriptedConsul) {
	consul := &scriptedConsul{results: results}
	return &resilientClient{Client: consul, ctx: ctx, wait: 7 * time.Second, logger: hclog.NewNullLogger()}, consul
}

var errDown = errors.New("connection refused")

func TestFirstQueryFailsFastSoTheGatewayStartsWithoutConsul(t *testing.T) {
	c, consul := newTestClient(context.Background(), errDown, errDown)
	if _, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{}); !errors.Is(err, errDown) {
		t.Fatalf("err = %v, want the first failure returned", err)
	}
	if len(consul.queries) != 1 {
		t.Fatalf("%d queries, want 1", len(consul.queries))
	}
}

func TestLaterQueriesRetryFromIndexZeroUntilConsulAnswers(t *testing.T) {
	c, consul := newTestClient(context.Background())
	if _, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{}); err != nil {
		t.Fatal(err)
	}
	consul.results = []any{errDown, errDown}
	_, meta, err := c.Service("stringsvc", "", true, &api.QueryOptions{WaitIndex: 900})
	if err != nil || meta.LastIndex != 44 {
		t.Fatalf("meta = %v, err = %v: want the answer after the retries", meta, err)
	}
	var indexes []uint64
	for _, q := range consul.queries[1:] {
		indexes = append(indexes, q.WaitIndex)
		if q.WaitTime != 7*time.Second {
			t.Errorf("WaitTime = %v, want the configured bound", q.WaitTime)
		}
	}
	// The first try blocks on the caller's index; after a failure Consul may have restarted with a
	// lower index, so the retries ask for the current state.
	if len(indexes) != 3 || indexes[0] != 900 || indexes[1] != 0 || indexes[2] != 0 {
		t.Fatalf("wait indexes = %v, want [900 0 0]", indexes)
	}
	// The query after an outage starts from zero too.
	consul.results = nil
	c.failing.Store(true)
	c.Service("stringsvc", "", true, &api.QueryOptions{WaitIndex: 900})
	if last := consul.queries[len(consul.queries)-1]; last.WaitIndex != 0 {
		t.Fatalf("WaitIndex after an outage = %d, want 0", last.WaitIndex)
	}
}

func TestRetriesEndWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, consul := newTestClient(ctx)
	c.Service("stringsvc", "", true, &api.QueryOptions{})
	consul.results = []any{errDown, errDown, errDown, errDown, errDown, errDown, errDown, errDown}
	cancel()
	if _, _, err := c.Service("stringsvc", "", true, &api.QueryOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEmptyAnswersAreHeldBackOnceInstancesWereKnown(t *testing.T) {
	c, consul := newTestClient(context.Background(), 0)
	if entries, _, _ := c.Service("stringsvc", "", true, &api.QueryOptions{}); len(entries) != 0 {
		t.Fatalf("before any instance was known: %d entries, want the empty answer", len(entries))
	}
	consul.results = []any{3, 0, 0, 2}
	if entries, _, _ := c.Service("stringsvc", "", true, &api.QueryOptions{}); len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	entries, meta, err := c.Service("stringsvc", "", true, &api.QueryOptions{WaitIndex: 42})
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d entries, err %v: want the empty answers skipped and the next set (2)", len(entries), err)
	}
	// It blocked on the index of each empty answer in turn.
	var indexes []uint64
	for _, q := range consul.queries[2:] {
		indexes = append(indexes, q.WaitIndex)
	}
	if want := []uint64{42, 43, 44}; !slices.Equal(indexes, want) || meta.LastIndex != 45 {
		t.Fatalf("wait indexes = %v (last index %d), want %v (45)", indexes, meta.LastIndex, want)
	}
}

// Health hears of an answer with no passing instance that is held back, and of instances
// passing again: what the gateway's metrics show while it fails static.
func TestHealthTellsWhenNoInstancePassesWhileTheLastKnownAreKept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, consul := newTestClient(ctx, 3)
	health := &Health{}
	c.recorders = []Recorder{health}
	if entries, _, _ := c.Service("stringsvc", "", true, &api.QueryOptions{}); len(entries) != 3 || health.NoPassing("stringsvc") {
		t.Fatalf("%d entries, no passing %v: want 3, and instances passing", len(entries), health.NoPassing("stringsvc"))
	}
	consul.mu.Lock()
	consul.results = []any{0} // held back; then Consul goes away (the query retries until cancel)
	for range 1000 {
		consul.results = append(consul.results, errDown)
	}
	consul.mu.Unlock()
	returned := make(chan struct{})
	go func() { defer close(returned); c.Service("stringsvc", "", true, &api.QueryOptions{}) }()
	testkit.Eventually(t, 5*time.Second, "no passing instance noted", func() bool { return health.NoPassing("stringsvc") })
	cancel()
	<-returned

	c, _ = newTestClient(context.Background(), 2)
	c.recorders = []Recorder{health}
	if entries, _, _ := c.Service("stringsvc", "", true, &api.QueryOptions{}); len(entries) != 2 || health.NoPassing("stringsvc") {
		t.Fatalf("%d entries, no passing %v: want 2, and instances passing again", len(entries), health.NoPassing("stringsvc"))
	}
	if health.NoPassing("other") {
		t.Error("a service never seen is reported with no passing instance")
	}
}
