package main

import (
	"math"
	"runtime/debug"
	"strconv"
)

// memoryLimitShare is the share of the task's memory the gateway gives the Go runtime as its
// soft limit (GOMEMLIMIT): the rest is for what the runtime does not count (the binary, thread
// stacks of the OS, kernel socket buffers charged to the task).
const memoryLimitShare = 0.9

// tuneGC gives the collector a soft memory limit of memoryLimitShare of the task's memory, as
// Nomad tells a task in NOMAD_MEMORY_LIMIT (MiB), unless GOMEMLIMIT is set (GOGC and GOMEMLIMIT
// keep their usual meaning), and returns the limit in effect in bytes (math.MaxInt64: none).
//
// The collector keeps Go's default pace (GOGC=100): the request path leaves about 1.4 KB of
// garbage per request, so collections cost about 2% of its CPU, and the heap stays near twice
// the live data; the limit makes it collect sooner when a crowd of connections brings it near
// the task's memory, where a hard limit (the exec driver's cgroup) would kill it
// (bench/README.md, "Figures behind the code", has the measurements).
func tuneGC(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") == "" {
		if mib, err := strconv.ParseInt(getenv("NOMAD_MEMORY_LIMIT"), 10, 64); err == nil && mib > 0 {
			debug.SetMemoryLimit(int64(float64(mib<<20) * memoryLimitShare))
		}
	}
	return debug.SetMemoryLimit(-1) // a negative limit reads it
}

// describeLimit is a memory limit as the log says it.
func describeLimit(limit int64) string {
	if limit == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatInt(limit>>20, 10) + " MiB"
}
