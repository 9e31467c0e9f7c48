package discovery

import (
	"sync"

	"github.com/go-kit/kit/sd"
)

// View is a route's view of a service's instances: an Instancer passing on the events of the
// service's Instancer, with only the instances the route keeps.
type View struct {
	src     sd.Instancer
	keep    func(instance string) bool // nil: every instance
	mu      sync.Mutex
	subs    map[chan<- sd.Event]*relay
	settled chan struct{}
	once    sync.Once
}

// Filter returns a View of src keeping the instances keep accepts (nil: all of them). It shares
// src's subscription to Consul (one per service, whatever the number of routes) and does not
// stop src.
func Filter(src sd.Instancer, keep func(instance string) bool) *View {
	return &View{src: src, keep: keep, subs: map[chan<- sd.Event]*relay{}, settled: make(chan struct{})}
}

// Settled is closed once the first subscriber (a go-kit Endpointer) has taken in the first
// event: its endpoints then exist, so a route published from then on has its instances from its
// first request. The first event is handed over twice for that: an Endpointer takes events one
// at a time, so once it has taken the second it is done with the first (an event equal to the
// last changes nothing).
func (v *View) Settled() <-chan struct{} { return v.settled }

// relay carries src's events to one subscriber, filtered.
type relay struct {
	in   chan sd.Event
	done chan struct{}
	wg   sync.WaitGroup
}

// Register implements sd.Instancer.
func (v *View) Register(ch chan<- sd.Event) {
	r := &relay{in: make(chan sd.Event), done: make(chan struct{})}
	r.wg.Add(1)
	go v.run(r, ch)
	v.mu.Lock()
	v.subs[ch] = r
	v.mu.Unlock()
	v.src.Register(r.in) // src sends its current state at once: the relay is already reading
}

func (v *View) run(r *relay, ch chan<- sd.Event) {
	defer r.wg.Done()
	send := func(ev sd.Event) bool {
		select {
		case ch <- ev:
			return true
		case <-r.done:
			return false
		}
	}
	first := true
	for {
		select {
		case ev := <-r.in:
			ev = v.apply(ev)
			if !send(ev) {
				return
			}
			if first {
				first = false
				if !send(ev) {
					return
				}
				v.once.Do(func() { close(v.settled) })
			}
		case <-r.done:
			return
		}
	}
}

// Deregister implements sd.Instancer.
func (v *View) Deregister(ch chan<- sd.Event) {
	v.mu.Lock()
	r := v.subs[ch]
	delete(v.subs, ch)
	v.mu.Unlock()
	if r == nil {
		return
	}
	v.src.Deregister(r.in) // no event is sent to r.in after this
	close(r.done)
	r.wg.Wait()
}

// Stop does nothing: src belongs to whoever made it.
func (v *View) Stop() {}

func (v *View) apply(ev sd.Event) sd.Event {
	if ev.Err != nil || v.keep == nil {
		return ev
	}
	kept := make([]string, 0, len(ev.Instances))
	for _, instance := range ev.Instances {
		if v.keep(instance) {
			kept = append(kept, instance)
		}
	}
	return sd.Event{Instances: kept}
}
