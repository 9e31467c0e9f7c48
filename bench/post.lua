-- post.lua - wrk script: POST a JSON body to the URL's path, and print one machine-readable line
-- at the end (read by bench/lib.sh):
-- BENCH requests=N duration_us=N connect=N read=N write=N status=N timeout=N p50_us=N p99_us=N max_us=N
-- The body is {"s":"hello"}, or, when BENCH_BODY_FILE names a file, that file's bytes as they are
-- (bench/measure.sh's scale-body runs: {"s":"<n lowercase letters>"}).
-- Usage: [BENCH_BODY_FILE=FILE] wrk -s bench/post.lua ... http://127.0.0.1:PORT/PATH
wrk.method = "POST"
wrk.body = '{"s":"hello"}'
wrk.headers["Content-Type"] = "application/json"

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file ~= nil and body_file ~= "" then
	local f = assert(io.open(body_file, "rb"))
	wrk.body = f:read("*a")
	f:close()
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
		summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end
