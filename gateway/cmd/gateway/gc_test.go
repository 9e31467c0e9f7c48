package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGCSetsTheDefaultUnlessGOGCIsSet(t *testing.T) {
	original := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(original) })

	if got := tuneGC(func(string) string { return "" }); got != defaultGCPercent {
		t.Errorf("tuneGC without GOGC = %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent in effect without GOGC: %d, want %d", got, defaultGCPercent)
	}

	// As if the runtime had read GOGC=50 at start: tuneGC must leave it.
	debug.SetGCPercent(50)
	env := map[string]string{"GOGC": "50"}
	if got := tuneGC(func(k string) string { return env[k] }); got != 50 {
		t.Errorf("tuneGC with GOGC=50 = %d, want 50", got)
	}
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("GC percent in effect with GOGC=50: %d, want 50", got)
	}
}
