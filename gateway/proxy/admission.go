package proxy

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"
)

// AdmissionSettings bound the requests in flight to one service, all its routes together.
type AdmissionSettings struct {
	// MinInFlight, MaxInFlight and InitialInFlight bound the adaptive limit (0 MaxInFlight:
	// no admission control).
	MinInFlight, MaxInFlight, InitialInFlight int
	// MaxQueue is the most requests waiting for admission; more are shed at once.
	MaxQueue int
}

// DefaultAdmission are the gateway's defaults: room for far more than a few instances can
// serve at once, and a queue that a spike of thousands of connections fits into.
func DefaultAdmission() AdmissionSettings {
	return AdmissionSettings{MinInFlight: 8, MaxInFlight: 1000, InitialInFlight: 100, MaxQueue: 10000}
}

// Admission is the admission control of one service: an adaptive concurrency limit (failsafe-go's
// adaptivelimiter, which moves the limit with the trend of the requests' latency against its
// baseline, as Netflix's gradient and Envoy's adaptive concurrency do) and a FIFO queue in front
// of it. A request that would wait longer than its remaining budget allows is shed at once
// (ErrShed: 503 with Retry-After); one that waits and is not admitted in time is shed then.
type Admission struct {
	service  string
	limiter  adaptivelimiter.AdaptiveLimiter[any]
	maxQueue int
	rtt      atomic.Int64 // moving average of an admitted request's time, ns
	waitAvg  atomic.Int64 // moving average of the wait of the requests that queued, ns
	drain    drainRate    // how fast requests are admitted: how fast the queue moves

	shed metrics.Counter
	wait metrics.Histogram

	shedTotal, queuedTotal atomic.Uint64
}

// NewAdmission returns the admission control of service; shed counts the shed requests and wait
// observes the queue wait of those that queued, in seconds (nil: not recorded).
func NewAdmission(service string, s AdmissionSettings, shed metrics.Counter, wait metrics.Histogram) *Admission {
	m := Metrics{Shed: shed, AdmissionWait: wait}.orDiscard()
	m.Shed.With("service", service).Add(0) // the series exists from the start, for alerts
	return &Admission{
		service: service,
		limiter: adaptivelimiter.NewBuilder[any]().
			WithLimits(uint(s.MinInFlight), uint(s.MaxInFlight), uint(s.InitialInFlight)).
			// The queue's bounds are ours (MaxQueue, the budget): the limiter's own probabilistic
			// rejection of queued requests is kept out of the way.
			WithQueueing(1e6, 1e6).
			Build(),
		maxQueue: s.MaxQueue,
		shed:     m.Shed.With("service", service),
		wait:     m.AdmissionWait.With("service", service),
	}
}

// Middleware admits each request before next runs it. ctx must carry the request's deadline
// (its budget).
func (a *Admission) Middleware() endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			permit, begin, err := a.admit(ctx)
			if err != nil {
				return nil, err
			}
			response, err := next(ctx, request)
			if err != nil && errors.Is(causeOf(ctx), ErrBudgetExhausted) {
				permit.Drop() // cut short: its time says nothing about the service
			} else {
				permit.Record()
				average(&a.rtt, time.Since(begin))
			}
			return response, err
		}
	}
}

// admit returns a permit and when it was given, at once, or after queueing for one when that
// fits the request's budget.
func (a *Admission) admit(ctx context.Context) (adaptivelimiter.Permit, time.Time, error) {
	now := time.Now()
	if permit, ok := a.limiter.TryAcquirePermit(); ok {
		a.drain.admitted(now)
		return permit, now, nil
	}
	left := deadlineOf(ctx).Sub(now)
	rtt := time.Duration(a.rtt.Load())
	// Wait at most until the request still has time to be served once admitted; shed at once
	// when even the whole budget would not cover the expected wait.
	room := left - min(rtt, left/2)
	queued := a.limiter.Queued()
	if queued >= a.maxQueue || a.drain.wait(queued+1) > left || room <= 0 {
		return nil, now, a.shedNow()
	}
	a.queuedTotal.Add(1)
	permit, err := a.limiter.AcquirePermitWithMaxWait(ctx, room)
	admitted := time.Now()
	waited := admitted.Sub(now)
	a.wait.Observe(waited.Seconds())
	average(&a.waitAvg, waited)
	switch {
	case err == nil:
		a.drain.admitted(admitted)
		return permit, admitted, nil
	case ctx.Err() != nil && !errors.Is(causeOf(ctx), ErrBudgetExhausted):
		return nil, admitted, causeOf(ctx) // the caller went away
	default: // not admitted within the budget
		return nil, admitted, a.shedNow()
	}
}

func (a *Admission) shedNow() error {
	a.shed.Add(1)
	a.shedTotal.Add(1)
	return ErrShed
}

// AdmissionStatus is the admission control of one service, as it is now.
type AdmissionStatus struct {
	Service  string
	Limit    int           // requests admitted at once
	InFlight int           // admitted now
	Queued   int           // waiting now
	MeanWait time.Duration // of recent requests that had to wait
	MeanTime time.Duration // of recent admitted requests
	Shed     uint64        // since start
	Waited   uint64        // requests that queued, since start
}

// Status returns a's state now.
func (a *Admission) Status() AdmissionStatus {
	return AdmissionStatus{
		Service:  a.service,
		Limit:    a.limiter.Limit(),
		InFlight: a.limiter.Inflight(),
		Queued:   a.limiter.Queued(),
		MeanWait: time.Duration(a.waitAvg.Load()),
		MeanTime: time.Duration(a.rtt.Load()),
		Shed:     a.shedTotal.Load(),
		Waited:   a.queuedTotal.Load(),
	}
}

// average folds d into the moving average at v (weight 1/16; concurrent updates may drop one).
func average(v *atomic.Int64, d time.Duration) {
	old := v.Load()
	if old == 0 {
		v.Store(int64(d))
		return
	}
	v.Store(old + (int64(d)-old)/16)
}

// deadlineOf is ctx's deadline; far away if it has none.
func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Hour)
}

// drainRate measures how many requests are admitted per second, over windows of 100 ms: how
// fast a queue in front of the limit moves. An estimate from the limit and the mean request time
// (Little's law) was tried first and shed far too much in a spike: retried and hedged requests
// pull the mean time up while the queue still moves fast.
type drainRate struct {
	count     atomic.Int64
	windowEnd atomic.Int64 // unix ns
	perSecond atomic.Int64 // of the last windows (moving average), admissions per second
}

const drainWindow = 100 * time.Millisecond

// admitted counts one admission at now; it closes a window when one has ended.
func (d *drainRate) admitted(now time.Time) {
	d.count.Add(1)
	end := d.windowEnd.Load()
	if now.UnixNano() < end || !d.windowEnd.CompareAndSwap(end, now.Add(drainWindow).UnixNano()) {
		return
	}
	n := d.count.Swap(0)
	if end == 0 {
		return // the first window starts now
	}
	elapsed := drainWindow + now.Sub(time.Unix(0, end)) // the window, and how late it was closed
	rate := int64(float64(n) / elapsed.Seconds())
	if old := d.perSecond.Load(); old != 0 {
		rate = (old + rate) / 2
	}
	d.perSecond.Store(rate)
}

// wait is how long the n-th request in the queue should wait at the measured rate (0 until one
// window was measured: nothing is shed on a guess).
func (d *drainRate) wait(n int) time.Duration {
	rate := d.perSecond.Load()
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(n) / float64(rate) * float64(time.Second))
}
