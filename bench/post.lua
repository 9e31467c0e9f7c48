-- post.lua - wrk script: POST {"s":"hello"} as JSON to the URL's path, and print one
-- machine-readable line at the end (read by bench/lib.sh):
-- BENCH requests=N duration_us=N connect=N read=N write=N status=N timeout=N p50_us=N p99_us=N max_us=N
-- Usage: wrk -s bench/post.lua ... http://127.0.0.1:PORT/PATH
wrk.method = "POST"
wrk.body = '{"s":"hello"}'
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
		summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end
