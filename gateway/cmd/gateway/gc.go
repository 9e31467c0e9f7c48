package main

import "runtime/debug"

// defaultGCPercent is the gateway's GOGC unless the environment sets one. Its live heap is small
// (routes, breakers, connection buffers: a few MiB) while each request leaves ~10 KB of short-lived
// garbage, so with Go's default of 100 the collector runs tens of times a second under load. At
// 400 the heap may grow to five times the live data between collections: less CPU per request
// for more peak memory (bench/README.md, "Figures behind the code", has the measurement).
const defaultGCPercent = 400

// tuneGC sets defaultGCPercent unless GOGC is set (GOGC and GOMEMLIMIT keep their usual meaning)
// and returns the GC percent in effect.
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		percent := debug.SetGCPercent(-1) // read the value the runtime took from GOGC ...
		debug.SetGCPercent(percent)       // ... and put it back
		return percent
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
