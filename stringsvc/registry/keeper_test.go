package registry

import (
	"testing"
	"time"
)

// Only the backoff is tested here; Run and Deregister need a Consul agent (system tests).

func TestKeeperNextBackoff(t *testing.T) {
	t.Parallel()
	k := &Keeper{resync: 2 * time.Second}

	var got []time.Duration
	wait := time.Duration(0)
	for range 8 {
		wait = k.next(wait, false)
		got = append(got, wait)
	}
	want := []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 2 * time.Second, 2 * time.Second, 2 * time.Second,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff sequence = %v, want %v", got, want)
		}
	}
}

func TestKeeperNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		resync     time.Duration
		prev       time.Duration
		registered bool
		want       time.Duration
	}{
		{name: "first failure", resync: 30 * time.Second, prev: 0, want: minRetry},
		{name: "doubles", resync: 30 * time.Second, prev: 100 * time.Millisecond, want: 200 * time.Millisecond},
		{name: "doubles odd value", resync: 30 * time.Second, prev: 300 * time.Millisecond, want: 600 * time.Millisecond},
		{name: "below min rises to min", resync: 30 * time.Second, prev: time.Millisecond, want: minRetry},
		{name: "capped at resync", resync: 30 * time.Second, prev: 20 * time.Second, want: 30 * time.Second},
		{name: "stays at resync", resync: 30 * time.Second, prev: 30 * time.Second, want: 30 * time.Second},
		{name: "after registered period then lost", resync: 30 * time.Second, prev: 30 * time.Second, want: 30 * time.Second},
		{name: "resync below min", resync: 50 * time.Millisecond, prev: 0, want: 50 * time.Millisecond},
		{name: "registered from zero", resync: 30 * time.Second, prev: 0, registered: true, want: 30 * time.Second},
		{name: "registered after backoff", resync: 30 * time.Second, prev: 400 * time.Millisecond, registered: true, want: 30 * time.Second},
		{name: "registered short resync", resync: 10 * time.Millisecond, prev: time.Second, registered: true, want: 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := &Keeper{resync: tt.resync}
			if got := k.next(tt.prev, tt.registered); got != tt.want {
				t.Errorf("next(%v, %v) with resync %v = %v, want %v", tt.prev, tt.registered, tt.resync, got, tt.want)
			}
		})
	}
}
