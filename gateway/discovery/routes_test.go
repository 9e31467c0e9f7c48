package discovery

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/sd"
	"github.com/hashicorp/consul/api"
)

func TestCatalogKeepsAServiceForItsGraceThenDropsIt(t *testing.T) {
	w := catalogWatch{tags: Catalog{}, gone: map[string]time.Time{}, grace: 10 * time.Second}
	start := time.Now()
	w.update(map[string][]string{"stringsvc": {"route=POST /a"}, "wordsvc": {"route=POST /b"}}, start)
	got := w.update(map[string][]string{"stringsvc": {"route=POST /a"}}, start.Add(time.Second))
	if _, kept := got["wordsvc"]; !kept || !slices.Equal(got["wordsvc"], []string{"route=POST /b"}) {
		t.Fatalf("a service that just left: %v, want kept with its tags", got)
	}
	if next, ok := w.nextExpiry(); !ok || !next.Equal(start.Add(11*time.Second)) {
		t.Fatalf("next expiry %v, want 10 s after it left", next)
	}
	// It comes back within the grace: the clock restarts when it leaves again.
	w.update(map[string][]string{"stringsvc": {}, "wordsvc": {"route=POST /b"}}, start.Add(5*time.Second))
	got = w.update(map[string][]string{"stringsvc": {}}, start.Add(12*time.Second))
	if _, kept := got["wordsvc"]; !kept {
		t.Fatalf("left again at 12 s: %v, want kept", got)
	}
	got = w.update(map[string][]string{"stringsvc": {}}, start.Add(22*time.Second))
	if _, kept := got["wordsvc"]; kept || len(got) != 1 {
		t.Fatalf("after its grace: %v, want stringsvc alone", got)
	}
	if _, ok := w.nextExpiry(); ok {
		t.Fatal("an expiry is left with no service in its grace")
	}
}

func TestDeclarationsRecordWhatEachInstanceDeclares(t *testing.T) {
	d := NewDeclarations()
	d.Record([]*api.ServiceEntry{
		{Node: &api.Node{Address: "10.0.0.1"}, Service: &api.AgentService{Port: 1, Tags: []string{"route=POST /a idempotent", "route=POST /new", "v2"}}},
		{Node: &api.Node{Address: "10.0.0.1"}, Service: &api.AgentService{Port: 2, Tags: []string{"route=POST /a", "route=bad"}}},
	})
	for _, tc := range []struct {
		instance, key string
		want          bool
	}{
		{"10.0.0.1:1", "POST /a", true}, {"10.0.0.1:1", "POST /new", true},
		{"10.0.0.1:2", "POST /a", true}, {"10.0.0.1:2", "POST /new", false}, {"10.0.0.9:1", "POST /a", false},
	} {
		if got := d.Declares(tc.instance, tc.key); got != tc.want {
			t.Errorf("%s declares %s: %v, want %v", tc.instance, tc.key, got, tc.want)
		}
	}
}

// broadcaster is an Instancer whose set the test changes, sending it to every subscriber.
type broadcaster struct {
	mu    sync.Mutex
	state []string
	subs  map[chan<- sd.Event]bool
}

func (b *broadcaster) Register(ch chan<- sd.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[ch] = true
	ch <- sd.Event{Instances: b.state}
}

func (b *broadcaster) Deregister(ch chan<- sd.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, ch)
}

func (b *broadcaster) Stop() {}

func (b *broadcaster) set(instances ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state = instances
	for ch := range b.subs {
		ch <- sd.Event{Instances: instances}
	}
}

func TestFilterPassesOnOnlyTheInstancesItKeeps(t *testing.T) {
	src := &broadcaster{state: []string{"a:1", "b:1"}, subs: map[chan<- sd.Event]bool{}}
	f := Filter(src, func(instance string) bool { return instance != "b:1" })
	ch := make(chan sd.Event)
	go f.Register(ch)
	for range 2 { // the first event comes twice: see Settled
		if ev := <-ch; !slices.Equal(ev.Instances, []string{"a:1"}) {
			t.Fatalf("first event %v, want a alone", ev.Instances)
		}
	}
	select {
	case <-f.Settled():
	case <-time.After(5 * time.Second):
		t.Fatal("not settled after its subscriber took the first event")
	}
	go src.set("a:1", "b:1", "c:1")
	if ev := <-ch; !slices.Equal(ev.Instances, []string{"a:1", "c:1"}) {
		t.Fatalf("update %v, want a and c", ev.Instances)
	}
	f.Deregister(ch)
	src.mu.Lock()
	left := len(src.subs)
	src.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d subscriptions left on the source after Deregister", left)
	}
	src.set("d:1") // must not block: nothing listens any more
}

func TestSightingsForgetInstancesLongGone(t *testing.T) {
	s := NewSightings()
	now := time.Now()
	s.now = func() time.Time { return now }
	entry := func(port int) *api.ServiceEntry {
		return &api.ServiceEntry{Node: &api.Node{Address: "10.0.0.1"}, Service: &api.AgentService{Port: port}}
	}
	s.Record([]*api.ServiceEntry{entry(1), entry(2)})
	now = now.Add(forgetAfter / 2)
	s.Record([]*api.ServiceEntry{entry(2)})
	now = now.Add(forgetAfter/2 + time.Second)
	s.Record([]*api.ServiceEntry{entry(3)})
	if _, ok := s.LastSeen("10.0.0.1:1"); ok {
		t.Error("an instance unseen for longer than forgetAfter is still recorded")
	}
	if _, ok := s.LastSeen("10.0.0.1:2"); !ok {
		t.Error("an instance seen within forgetAfter was forgotten")
	}
}
