package registry

import (
	"context"
	"time"
)

// Kept is a Keeper running in the background (Keeper.Start): what an instance's life holds while
// it serves, and ends with Stop or Leave.
type Kept struct {
	keeper *Keeper
	stop   context.CancelFunc
	done   chan struct{}
}

// Start runs k.Run in the background until Stop or Leave.
func (k *Keeper) Start() *Kept {
	ctx, stop := context.WithCancel(context.Background())
	kept := &Kept{keeper: k, stop: stop, done: make(chan struct{})}
	go func() { defer close(kept.done); k.Run(ctx) }()
	return kept
}

// Stop ends the keeping and waits until it has ended; the registration stays in Consul (its
// failing check removes an instance that is gone). Stopping again does nothing.
func (r *Kept) Stop() {
	r.stop()
	<-r.done
}

// Leave stops the keeping, then deregisters, waiting at most timeout (see Keeper.Deregister).
func (r *Kept) Leave(timeout time.Duration) error {
	r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return r.keeper.Deregister(ctx)
}
