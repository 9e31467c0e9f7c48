#!/usr/bin/env bash
# report.sh - turn the TSV that bench/measure.sh wrote into the markdown report and the PNG chart.
#
# Usage: bench/report.sh TSV OUT_PREFIX      writes OUT_PREFIX.md and OUT_PREFIX.png
# Reads BENCH_DATE, BENCH_COMMAND, BENCH_VERSIONS, BENCH_ELAPSED, BENCH_CONNECTIONS, BENCH_DURATION,
# BENCH_WARMUP and BENCH_LONG_DURATION from the environment (bench/run.sh sets them).
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

# matrix COLUMN FILE: one row per scenario, one column per proxy ("-" where there is no run).
matrix() {
	awk -F'\t' -v col="$1" -v px="$proxies" -v sc="$scenarios" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		{ v[$1, $2] = $idx[col] }
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

matrix ok_rps "$tmp/rps.dat"
matrix p99_ms "$tmp/p99.dat"
gnuplot -e "rps='$tmp/rps.dat'; p99='$tmp/p99.dat'; out='$out.png'; title='$BENCH_DATE, $(nproc) cores, $BENCH_CONNECTIONS connections'" \
	"$bench/chart.gp"

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

		## Fault runs

		| scenario | proxy | failed/total | p99 ms | max ms |
		|---|---|---:|---:|---:|
	EOF
	awk -F'\t' '
		NR == 1 || $1 == "clean" { next }
		{ printf "| %s | %s | %d/%d | %.2f | %.1f |\n", $1, $2, $10, $11, $14, $15 }' "$tsv"
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
} >"$out.md"
