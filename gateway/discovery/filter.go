package discovery

import (
	"sync"

	"github.com/go-kit/kit/sd"
)

// Filter returns an Instancer that passes on src's events with only the instances keep accepts.
// It shares src's subscription to Consul (one per service, whatever the number of routes) and
// does not stop src.
func Filter(src sd.Instancer, keep func(instance string) bool) sd.Instancer {
	return &filter{src: src, keep: keep, subs: map[chan<- sd.Event]*relay{}}
}

type filter struct {
	src  sd.Instancer
	keep func(string) bool
	mu   sync.Mutex
	subs map[chan<- sd.Event]*relay
}

// relay carries src's events to one subscriber, filtered.
type relay struct {
	in   chan sd.Event
	done chan struct{}
	wg   sync.WaitGroup
}

func (f *filter) Register(ch chan<- sd.Event) {
	r := &relay{in: make(chan sd.Event), done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			select {
			case ev := <-r.in:
				select {
				case ch <- f.apply(ev):
				case <-r.done:
					return
				}
			case <-r.done:
				return
			}
		}
	}()
	f.mu.Lock()
	f.subs[ch] = r
	f.mu.Unlock()
	f.src.Register(r.in) // src sends its current state at once: the relay is already reading
}

func (f *filter) Deregister(ch chan<- sd.Event) {
	f.mu.Lock()
	r := f.subs[ch]
	delete(f.subs, ch)
	f.mu.Unlock()
	if r == nil {
		return
	}
	f.src.Deregister(r.in) // no event is sent to r.in after this
	close(r.done)
	r.wg.Wait()
}

// Stop does nothing: src belongs to whoever made it.
func (f *filter) Stop() {}

func (f *filter) apply(ev sd.Event) sd.Event {
	if ev.Err != nil {
		return ev
	}
	kept := make([]string, 0, len(ev.Instances))
	for _, instance := range ev.Instances {
		if f.keep(instance) {
			kept = append(kept, instance)
		}
	}
	return sd.Event{Instances: kept}
}
