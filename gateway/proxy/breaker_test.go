package proxy

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestExcludedHalfOpenProbeDoesNotWedgeTheBreaker(t *testing.T) {
	var failing atomic.Bool
	cb := newBreaker("uppercase", "a", BreakerSettings{Failures: 1, Open: 10 * time.Millisecond}, Metrics{}.orDiscard(), hclog.NewNullLogger())
	ep := breaking(cb)(
		func(ctx context.Context, _ any) (any, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if failing.Load() {
				return nil, serverError
			}
			return "ok", nil
		})
	failing.Store(true)
	if _, err := ep(context.Background(), nil); !errors.Is(err, serverError) {
		t.Fatalf("err = %v, want the 500", err)
	}
	if _, err := ep(context.Background(), nil); !errors.Is(err, errBreakerOpen) {
		t.Fatalf("err = %v, want the breaker open", err)
	}
	// Once half-open, the single probe goes to a caller that has already given up.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := ep(canceled, nil)
		if !errors.Is(err, errBreakerOpen) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the breaker never went half-open")
		}
		time.Sleep(time.Millisecond)
	}
	failing.Store(false)
	if resp, err := ep(context.Background(), nil); err != nil || resp != "ok" {
		t.Fatalf("after an excluded probe: %v %v, want the next probe let through", resp, err)
	}
	if resp, err := ep(context.Background(), nil); err != nil || resp != "ok" {
		t.Fatalf("after a successful probe: %v %v, want the breaker closed", resp, err)
	}
}
