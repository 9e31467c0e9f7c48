package proxy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// fixedAdmission admits limit requests at once (the adaptive limit pinned) with a queue of
// maxQueue.
func fixedAdmission(limit, maxQueue int) *Admission {
	return NewAdmission("svc", AdmissionSettings{MinInFlight: limit, MaxInFlight: limit, InitialInFlight: limit, MaxQueue: maxQueue}, nil, nil)
}

// blockingEndpoint runs until release is closed.
func blockingEndpoint(release <-chan struct{}) func(context.Context, any) (any, error) {
	return func(ctx context.Context, _ any) (any, error) {
		select {
		case <-release:
			return "ok", nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// A request beyond the limit waits in the queue and is admitted when a permit frees up.
func TestAdmissionQueuesBeyondTheLimit(t *testing.T) {
	a := fixedAdmission(1, 10)
	release := make(chan struct{})
	ep := budgeting(time.Minute)(a.Middleware()(blockingEndpoint(release)))
	first := make(chan error, 1)
	go func() { _, err := ep(context.Background(), nil); first <- err }()
	testkit.Eventually(t, 5*time.Second, "the first request in flight", func() bool { return a.Status().InFlight == 1 })
	second := make(chan error, 1)
	go func() { _, err := ep(context.Background(), nil); second <- err }()
	testkit.Eventually(t, 5*time.Second, "the second request queued", func() bool { return a.Status().Queued == 1 })
	close(release)
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatalf("err = %v, want both served", err)
		}
	}
	if st := a.Status(); st.Shed != 0 || st.Waited != 1 {
		t.Fatalf("status %+v, want one waited and none shed", st)
	}
}

// When the wait would exceed what is left of the budget, the request is shed at once.
func TestAdmissionShedsAtOnceWhenTheWaitWouldExceedTheBudget(t *testing.T) {
	a := fixedAdmission(1, 10)
	a.drain.perSecond.Store(1) // the queue moves by one a second: nothing queued could make 100 ms
	release := make(chan struct{})
	defer close(release)
	slow := budgeting(time.Minute)(a.Middleware()(blockingEndpoint(release)))
	go slow(context.Background(), nil)
	testkit.Eventually(t, 5*time.Second, "one request in flight", func() bool { return a.Status().InFlight == 1 })
	ep := budgeting(100 * time.Millisecond)(a.Middleware()(blockingEndpoint(release)))
	begin := time.Now()
	_, err := ep(context.Background(), nil)
	if !errors.Is(err, ErrShed) {
		t.Fatalf("err = %v, want ErrShed", err)
	}
	if took := time.Since(begin); took > 50*time.Millisecond {
		t.Fatalf("shed after %v, want at once", took)
	}
	if a.Status().Shed != 1 {
		t.Fatal("the shed request was not counted")
	}
}

// A full queue sheds at once; a queued request not admitted within its budget is shed then.
func TestAdmissionBoundsTheQueue(t *testing.T) {
	a := fixedAdmission(1, 0)
	release := make(chan struct{})
	defer close(release)
	go budgeting(time.Minute)(a.Middleware()(blockingEndpoint(release)))(context.Background(), nil)
	testkit.Eventually(t, 5*time.Second, "one request in flight", func() bool { return a.Status().InFlight == 1 })
	if _, err := budgeting(time.Minute)(a.Middleware()(blockingEndpoint(release)))(context.Background(), nil); !errors.Is(err, ErrShed) {
		t.Fatalf("err = %v with a queue of 0, want ErrShed", err)
	}

	b := fixedAdmission(1, 10)
	go budgeting(time.Minute)(b.Middleware()(blockingEndpoint(release)))(context.Background(), nil)
	testkit.Eventually(t, 5*time.Second, "one request in flight", func() bool { return b.Status().InFlight == 1 })
	if _, err := budgeting(30*time.Millisecond)(b.Middleware()(blockingEndpoint(release)))(context.Background(), nil); !errors.Is(err, ErrShed) {
		t.Fatalf("err = %v after waiting out the budget, want ErrShed", err)
	}
}
