#!/usr/bin/env bash
# report.sh - turn the TSV that bench/measure.sh wrote into the markdown report and the PNG chart.
#
# Usage: bench/report.sh TSV OUT_PREFIX      writes OUT_PREFIX.md, OUT_PREFIX.png and, when the TSV
#                                            has spike or gray-failure rows, OUT_PREFIX-gray.png
# Reads BENCH_DATE, BENCH_COMMAND, BENCH_VERSIONS, BENCH_ELAPSED, BENCH_CONNECTIONS, BENCH_DURATION,
# BENCH_WARMUP and BENCH_LONG_DURATION from the environment (bench/run.sh sets them). TSVs from
# before the spike and gray-failure scenarios (19 columns, no upstream counts) still work.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

[[ $# -eq 2 ]] || die "usage: $0 TSV OUT_PREFIX"
tsv="$1" out="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-report.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

proxies="direct gateway nginx haproxy caddy"
scenarios="clean kill freeze rolling consul"
# The spike and the gray failures: their own table and chart, without Caddy.
gray_proxies="gateway nginx haproxy"
gray_scenarios="spike-before spike spike-after slow tail errors stall"

# matrix COLUMN FILE PROXIES SCENARIOS: one row per scenario, one column per proxy ("-" where
# there is no run, or the TSV has no such column).
matrix() {
	awk -F'\t' -v col="$1" -v px="$3" -v sc="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		{ v[$1, $2] = (col in idx && idx[col] <= NF) ? $idx[col] : "-" }
		END {
			np = split(px, p, " "); ns = split(sc, s, " ")
			line = "scenario"; for (j = 1; j <= np; j++) line = line " " p[j]; print line
			for (i = 1; i <= ns; i++) {
				line = s[i]
				for (j = 1; j <= np; j++) line = line " " ((s[i], p[j]) in v ? v[s[i], p[j]] : "-")
				print line
			}
		}' "$tsv" >"$2"
}

title="$BENCH_DATE, $(nproc) cores, $BENCH_CONNECTIONS connections"
matrix ok_rps "$tmp/rps.dat" "$proxies" "$scenarios"
matrix p99_ms "$tmp/p99.dat" "$proxies" "$scenarios"
gnuplot -e "rps='$tmp/rps.dat'; p99='$tmp/p99.dat'; out='$out.png'; scenarios='$scenarios'; nproxies=5" \
	-e "heading='Gateway vs nginx, HAProxy, Caddy ($title)'" "$bench/chart.gp"

# spike_connections: the connections of the spike run (from the TSV; else BENCH_SPIKE_CONNECTIONS).
spike_connections() {
	local n
	n="$(awk -F'\t' '$1 == "spike" && NF >= 20 { print $20; exit }' "$tsv")"
	echo "${n:-${BENCH_SPIKE_CONNECTIONS:-4096}}"
}

# rows [-v gray=0]: the TSV's spike and gray-failure rows, without the header; with gray=0 the
# other rows instead.
rows() {
	awk -F'\t' -v sc="$gray_scenarios" -v gray=1 "$@" '
		BEGIN { n = split(sc, s, " "); for (i = 1; i <= n; i++) g[s[i]] = 1 }
		NR > 1 && (($1 in g) == gray)' "$tsv"
}

if [[ -n "$(rows)" ]]; then
	matrix ok_rps "$tmp/gray-rps.dat" "$gray_proxies" "$gray_scenarios"
	matrix p99_ms "$tmp/gray-p99.dat" "$gray_proxies" "$gray_scenarios"
	matrix extra_upstream_pct "$tmp/gray-extra.dat" "$gray_proxies" "$gray_scenarios"
	gnuplot -e "rps='$tmp/gray-rps.dat'; p99='$tmp/gray-p99.dat'; extra='$tmp/gray-extra.dat'" \
		-e "out='$out-gray.png'; scenarios='$gray_scenarios'; nproxies=3; skip=1" \
		-e "heading='Overload and gray failures: gateway vs nginx, HAProxy ($title; spike: $(spike_connections))'" \
		"$bench/chart.gp"
fi

# other_load: a sentence on the CPU time that processes outside the benchmark used, and that the
# hypervisor stole, during the measured runs.
other_load() {
	awk -F'\t' '
		NR == 1 { next }
		$18 > other { other = $18 }
		$19 > steal { steal = $19 }
		$18 + $19 > 5 { busy = busy sprintf("%s%s %s %.0f%%", (busy == "" ? "" : ", "), $1, $2, $18 + $19) }
		END {
			printf "Disturbance during the measured runs: other processes on the machine used at most %.1f%% of its CPU time, the hypervisor stole at most %.1f%%", other, steal
			if (busy != "") printf "; over 5%% together (those figures are less reliable): %s", busy
			print ""
		}' "$tsv"
}

# fault_section: the markdown of the fault runs.
fault_section() {
	cat <<-'EOF'

		## Fault runs

		| scenario | proxy | failed/total | p99 ms | max ms |
		|---|---|---:|---:|---:|
	EOF
	rows -v gray=0 | awk -F'\t' '
		$1 != "clean" { printf "| %s | %s | %d/%d | %.2f | %.1f |\n", $1, $2, $10, $11, $14, $15 }'
	cat <<-'EOF'

		Each fault run starts a fresh proxy on three healthy backends (all passing in Consul), and the
		fault a third of the way into the run:
		- kill: backend :9102 gets SIGKILL (restarted after the run);
		- freeze: backend :9102 gets SIGSTOP: it accepts connections but never answers (SIGCONT and
		  restarted after the run);
		- rolling: each backend in turn gets SIGTERM (it deregisters, drains 3 s, exits), a new one starts
		  on the same port, and the next one follows once the new one passes in Consul;
		- consul (the gateway only): the Consul agent is stopped for 10 s, then started again (a dev agent
		  comes back empty; the backends register again by themselves).

		failed: non-2xx/3xx responses plus socket errors (connect, read, write, wrk's 10 s timeout);
		total: responses plus socket errors. p99 and max are over the responses wrk received.
		Raw figures: the `.tsv` beside this file; chart: the `.png`.

		Notes:
		- wrk does not count requests still in flight when a run ends: with runs much shorter than
		  15 s, the freeze scenario's 3 s response timeouts (nginx, HAProxy, Caddy) mostly fall after
		  the end and do not show.
		- Caddy 2.6.2 (Debian 12) cannot retry a request with a body: the first try closes it, and the
		  retry fails ("invalid Read on closed Body", 502) and counts against the healthy backend it
		  went to, which can get every backend marked down for 5 s (a burst of 503s); see
		  `bench/config/Caddyfile.tmpl`.
	EOF
}

# gray_section: the markdown of the spike and gray-failure runs.
gray_section() {
	local spike_conns
	spike_conns="$(spike_connections)"
	cat <<-'EOF'

		## Overload and gray failures

		| scenario | proxy | failed/total | goodput req/s | p50 ms | p99 ms | extra upstream % |
		|---|---|---:|---:|---:|---:|---:|
	EOF
	rows | awk -F'\t' '{
		printf "| %s | %s | %d/%d | %d | %.2f | %.2f | %s |\n", $1, $2, $10, $11, $12, $13, $14, (NF >= 22 ? $22 : "-") }'
	cat <<-EOF

		Each scenario starts a fresh proxy on three backends passing in Consul, and a warm-up; Caddy
		sits these out:
		- spike-before, spike, spike-after: three runs back to back against the same proxy process, at
		  $BENCH_CONNECTIONS, $spike_conns and $BENCH_CONNECTIONS connections: the spike, and whether the proxy recovers from it;
		- slow: backend :9102 is a graysvc (\`stringsvc/cmd/graysvc\`) answering every request 50 ms
		  late (\`-delay 50ms\`);
		- tail: a graysvc answering 1 request in 10 200 ms late (\`-delay 200ms -delay-share 0.1\`);
		- errors: a graysvc answering 30% of requests 500 \`{"err":"injected failure"}\`
		  (\`-error-share 0.3\`);
		- stall: a graysvc holding every request for 300 ms every 800 ms (\`-stall-every 800ms
		  -stall-for 300ms\`).

		A graysvc registers in Consul as stringsvc and its health check passes all along: only its
		answers show the failure. The peers retry a 5xx on another server, as the gateway does, and
		HAProxy queues requests beyond 512 connections to a server (the gateway's
		\`-max-conns-per-instance\`); see \`bench/config/\`. failed/total: non-2xx responses plus
		socket errors, of responses plus socket errors. Goodput: 2xx responses per second.

		Extra upstream %: the requests the three backends served (\`stringsvc_requests_total\`, read
		before and after the run; a graysvc's failed and delayed ones included) less the responses wrk
		received, per response: the retries and hedges a proxy sent, or, below 0, the requests it
		answered itself without a backend. It also holds the requests in flight when wrk stopped (wrk
		counts them nowhere; at most one per connection): up to connections/responses, a bias that
		matters only in the spike ($spike_conns connections). The spike's three runs follow each other
		without a pause, so requests the spike left in flight may be counted in spike-after's figure.

		Chart: the \`-gray.png\` beside this file.
	EOF
}

{
	cat <<-EOF
		# Gateway vs nginx, HAProxy and Caddy: $BENCH_DATE

		- Machine: $(hostname -s), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)
		- Command: \`$BENCH_COMMAND\` (run time $BENCH_ELAPSED)
		- Load: wrk, 2 threads, $BENCH_CONNECTIONS connections, POST \`{"s":"hello"}\` to \`/stringsvc/uppercase\` (the direct row: \`/uppercase\` of one backend);
		  each run ${BENCH_DURATION} s after a ${BENCH_WARMUP} s warm-up; the rolling restart and Consul outage runs last ${BENCH_LONG_DURATION} s so that the whole fault happens under load
		- Versions: $BENCH_VERSIONS
		- $(other_load)
		- Everything runs on the same $(nproc) cores in one loopback-only network namespace: wrk, the proxy under test, three stringsvc backends (127.0.0.1:9101-9103) and a Consul dev agent.
		  Proxies with 2 workers/threads (nginx \`worker_processes 2\`, HAProxy \`nbthread 2\`, Caddy and the gateway \`GOMAXPROCS=2\`); peer configs in \`bench/config/\`.

		## Clean runs

		| proxy | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | req/s vs nginx |
		|---|---:|---:|---:|---:|---:|---:|
	EOF
	awk -F'\t' '
		NR == 1 { next }
		$1 == "clean" { row[$2] = $0; if ($2 == "nginx") base = $12 }
		END {
			n = split("direct gateway nginx haproxy caddy", p, " ")
			for (i = 1; i <= n; i++) {
				if (!(p[i] in row)) continue
				split(row[p[i]], f, "\t")
				printf "| %s | %d | %.2f | %.2f | %s | %s | %s |\n", p[i], f[12], f[13], f[14], f[16], f[17],
					(base > 0 ? sprintf("%.2f", f[12] / base) : "-")
			}
		}' "$tsv"
	cat <<-'EOF'

		req/s: responses per second (none failed in a clean run). CPU µs/req: user+system CPU time of the
		proxy's processes (nginx: master and workers) during the measured run, per completed request.
		Peak RSS: VmHWM summed over those processes at the end of the run.
	EOF
	if [[ -n "$(rows -v gray=0 | awk '$1 != "clean"')" ]]; then fault_section; fi
	if [[ -n "$(rows)" ]]; then gray_section; fi
} >"$out.md"
