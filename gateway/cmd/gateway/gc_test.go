package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGCTakesTheLimitFromNomadUnlessGOMEMLIMITIsSet(t *testing.T) {
	original := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(original) })
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	if got := tuneGC(getenv); got != math.MaxInt64 || describeLimit(got) != "none" {
		t.Errorf("tuneGC outside Nomad = %d (%s), want no limit", got, describeLimit(got))
	}

	env["NOMAD_MEMORY_LIMIT"] = "256"
	want := int64(256 << 20 * 9 / 10)
	if got := tuneGC(getenv); got != want || describeLimit(got) != "230 MiB" {
		t.Errorf("tuneGC with NOMAD_MEMORY_LIMIT=256 = %d (%s), want %d (90%%)", got, describeLimit(got), want)
	}

	// As if the runtime had read GOMEMLIMIT=64MiB at start: tuneGC must leave it.
	debug.SetMemoryLimit(64 << 20)
	env["GOMEMLIMIT"] = "64MiB"
	if got := tuneGC(getenv); got != 64<<20 {
		t.Errorf("tuneGC with GOMEMLIMIT=64MiB = %d, want %d", got, 64<<20)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	delete(env, "GOMEMLIMIT")
	env["NOMAD_MEMORY_LIMIT"] = "lots"
	if got := tuneGC(getenv); got != math.MaxInt64 {
		t.Errorf("tuneGC with NOMAD_MEMORY_LIMIT=lots = %d, want no limit", got)
	}
}
