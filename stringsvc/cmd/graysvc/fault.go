package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// faults are the ways graysvc degrades its service routes on purpose; the zero value degrades
// nothing.
type faults struct {
	delay      time.Duration // added before answering...
	delayShare float64       // ...this share of the service requests
	errorShare float64       // this share is answered 500 without reaching the service
	stallEvery time.Duration // a stall starts every stallEvery (0: never)...
	stallFor   time.Duration // ...and holds every service request until it ends
}

func (f faults) validate() error {
	inShare := func(v float64) bool { return v >= 0 && v <= 1 } // false for NaN too
	switch {
	case f.delay < 0 || f.stallEvery < 0 || f.stallFor < 0:
		return errors.New("-delay, -stall-every and -stall-for must be >= 0")
	case !inShare(f.delayShare) || !inShare(f.errorShare):
		return errors.New("-delay-share and -error-share must be from 0 to 1")
	case (f.stallEvery > 0) != (f.stallFor > 0) || f.stallFor >= f.stallEvery && f.stallEvery > 0:
		return errors.New("-stall-every and -stall-for go together, -stall-for the shorter")
	}
	return nil
}

// errInjected is the error of every failure graysvc injects.
var errInjected = errors.New("injected failure")

// serviceMethods are the degraded routes, by path, with the method label stringsvc's metrics
// give their calls.
var serviceMethods = map[string]string{contract.UppercasePath: "uppercase", contract.CountPath: "count"}

// degrader is the middleware that applies faults to next's service routes (POST /uppercase and
// /count); every other request (/health, /metrics) goes to next at once, so Consul's check passes.
type degrader struct {
	faults
	next   http.Handler
	epoch  time.Time           // stalls start at epoch + k*stallEvery, k >= 1
	random func() float64      // in [0, 1), safe for concurrent use
	failed func(method string) // called for each injected failure, to count it
}

func (d *degrader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := serviceMethods[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		d.next.ServeHTTP(w, r)
		return
	}
	hold(r.Context(), d.stalled(time.Now()))
	if d.delay > 0 && d.pick(d.delayShare) {
		hold(r.Context(), d.delay)
	}
	if d.pick(d.errorShare) {
		d.failed(method)
		contract.WriteError(w, http.StatusInternalServerError, errInjected)
		return
	}
	d.next.ServeHTTP(w, r)
}

// stalled is how long a request arriving at now is held: to the end of the stall it falls in.
func (d *degrader) stalled(now time.Time) time.Duration {
	since := now.Sub(d.epoch)
	if d.stallEvery <= 0 || since < d.stallEvery {
		return 0
	}
	if phase := since % d.stallEvery; phase < d.stallFor {
		return d.stallFor - phase
	}
	return 0
}

// pick reports whether a request falls in share; it draws a random number only for a share
// strictly between 0 and 1.
func (d *degrader) pick(share float64) bool {
	return share >= 1 || share > 0 && d.random() < share
}

// hold waits for dur, or less if ctx ends first; the request then goes on.
func hold(ctx context.Context, dur time.Duration) {
	if dur <= 0 {
		return
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
