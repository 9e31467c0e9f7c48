#!/usr/bin/env bash
# report.sh - turn the TSV that bench/measure.sh wrote into the markdown report and the PNG charts.
#
# Usage: bench/report.sh TSV OUT_PREFIX      writes OUT_PREFIX.md, OUT_PREFIX.png and, when the TSV
#                                            has spike or gray-failure rows, OUT_PREFIX-gray.png;
#                                            for each scaling curve it has rows of,
#                                            OUT_PREFIX-connections.png, -instances.png, -body.png
# Reads BENCH_DATE, BENCH_COMMAND, BENCH_VERSIONS, BENCH_ELAPSED, BENCH_CONNECTIONS, BENCH_DURATION,
# BENCH_WARMUP and BENCH_LONG_DURATION from the environment (bench/run.sh sets them). TSVs from
# before the spike and gray-failure scenarios (19 columns, no upstream counts) or before the
# scaling curves (22 columns, no instances and body_bytes) still work.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

[[ $# -eq 2 ]] || die "usage: $0 TSV OUT_PREFIX"
raw="$1" out="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-report.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# With several clean rounds (BENCH_CLEAN_ROUNDS) each proxy has a clean row per round. The report
# keeps, for each proxy, the round of its median CPU per request (req/s for direct), with the
# system call and context switch counts of the round that has them (the first); everything below
# reads that TSV. The ratios to nginx are the medians of each round's own ratios (clean_ratios).
tsv="$tmp/report.tsv"
awk -F'\t' -v OFS='\t' '
	NR == 1 { print; next }
	$1 != "clean" { rest[++nrest] = $0; next }
	{
		if (!($2 in n)) order[++np] = $2
		r = ++n[$2]; row[$2, r] = $0
		key[$2, r] = ($16 == "-") ? $12 : $16
		if (NF >= 27 && $26 != "-") { sc[$2] = $26; cs[$2] = $27 }
	}
	END {
		for (i = 1; i <= np; i++) {
			p = order[i]; k = n[p]
			for (r = 1; r <= k; r++) idx[r] = r
			for (a = 2; a <= k; a++) for (b = a; b > 1 && key[p, idx[b]] + 0 < key[p, idx[b - 1]] + 0; b--) {
				t = idx[b]; idx[b] = idx[b - 1]; idx[b - 1] = t
			}
			nf = split(row[p, idx[int((k + 1) / 2)]], f, "\t")
			if (nf >= 27 && (p in sc)) { f[26] = sc[p]; f[27] = cs[p] }
			line = f[1]; for (j = 2; j <= nf; j++) line = line OFS f[j]
			print line
		}
		for (i = 1; i <= nrest; i++) print rest[i]
	}' "$raw" >"$tsv"

# clean_ratios BASE: per proxy, "PROXY REQ_S_RATIO CPU_RATIO ROUNDS": the medians over the clean
# rounds of its req/s and CPU per request over BASE's in the same round ("-" without BASE or CPU).
clean_ratios() {
	awk -F'\t' -v base="$1" '
		function median(v, k,    a, b, t) {
			for (a = 2; a <= k; a++) for (b = a; b > 1 && v[b] < v[b - 1]; b--) { t = v[b]; v[b] = v[b - 1]; v[b - 1] = t }
			return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		}
		NR > 1 && $1 == "clean" {
			if (!($2 in n)) order[++np] = $2
			r = ++n[$2]; rps[$2, r] = $12; cpu[$2, r] = $16
		}
		END {
			for (i = 1; i <= np; i++) {
				p = order[i]; kr = 0; kc = 0
				delete vr; delete vc
				for (r = 1; r <= n[p] && r <= n[base]; r++) {
					if (rps[base, r] > 0) vr[++kr] = rps[p, r] / rps[base, r]
					if (cpu[p, r] != "-" && cpu[base, r] != "-" && cpu[base, r] > 0) vc[++kc] = cpu[p, r] / cpu[base, r]
				}
				printf "%s %s %s %d\n", p, kr ? sprintf("%.2f", median(vr, kr)) : "-", kc ? sprintf("%.2f", median(vc, kc)) : "-", n[p]
			}
		}' "$raw"
}

# floor: bench/floor, the bare fasthttp reference proxy (clean runs and scaling curves only).
proxies="direct gateway nginx haproxy caddy floor"
scenarios="clean kill freeze rolling consul"
# The spike and the gray failures: their own table and chart, without Caddy and floor.
gray_proxies="gateway nginx haproxy"
gray_scenarios="spike-before spike spike-after slow tail errors stall"
# The scaling curves: rows scale-DIMENSION, each its own table and chart.
scale_dimensions="connections instances body"

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
gnuplot -e "rps='$tmp/rps.dat'; p99='$tmp/p99.dat'; out='$out.png'; scenarios='$scenarios'; nproxies=6" \
	-e "heading='Gateway vs nginx, HAProxy, Caddy and floor, bare fasthttp ($title)'" "$bench/chart.gp"

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

# scale_rows DIMENSION: the scale-DIMENSION rows, by proxy and then point, one a line: the point
# (connections, instances or body bytes), the proxy, the point's label (no spaces), req/s, p99 ms,
# CPU µs/req, peak RSS MiB, failed, total.
scale_rows() {
	awk -F'\t' -v sc="scale-$1" -v dim="$1" -v order="$proxies" '
		BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; col = idx[dim == "body" ? "body_bytes" : dim]; next }
		$1 == sc && col {
			x = $col; label = x
			if (dim == "body") {
				if (x % 1048576 == 0) label = x / 1048576 "MiB"
				else if (x % 1024 == 0) label = x / 1024 "KiB"
				else label = x "B"
			}
			print rank[$2], x, $2, label, $12, $14, $16, $17, $10, $11
		}' "$tsv" | sort -k1,1n -k2,2n | cut -d' ' -f2-
}

# scale_matrix DIMENSION FIELD FILE: for scaling.gp, one line per point in increasing order: the
# point, its label and field FIELD (4: req/s, 5: p99, 6: CPU, 7: RSS) of scale_rows of each proxy
# that has such rows.
scale_matrix() {
	scale_rows "$1" | awk -v f="$2" '
		!($2 in seen) { seen[$2] = 1; px[++np] = $2 }
		!($1 in lab) { lab[$1] = $3; xs[++nx] = $1 }
		{ v[$1, $2] = $f }
		END {
			line = "x label"; for (j = 1; j <= np; j++) line = line " " px[j]; print line
			# xs in increasing order (insertion sort: a few points).
			for (i = 2; i <= nx; i++) for (k = i; k > 1 && xs[k - 1] + 0 > xs[k] + 0; k--) {
				t = xs[k]; xs[k] = xs[k - 1]; xs[k - 1] = t
			}
			for (i = 1; i <= nx; i++) {
				line = xs[i] " " lab[xs[i]]
				for (j = 1; j <= np; j++) line = line " " ((xs[i], px[j]) in v ? v[xs[i], px[j]] : "-")
				print line
			}
		}' >"$3"
}

# scale_chart DIMENSION: OUT_PREFIX-DIMENSION.png, the four panels of scaling.gp.
scale_chart() {
	local dim="$1" lts xname scales="" what single=""
	scale_matrix "$dim" 4 "$tmp/scale-$dim-rps.dat"
	scale_matrix "$dim" 5 "$tmp/scale-$dim-p99.dat"
	scale_matrix "$dim" 6 "$tmp/scale-$dim-cpu.dat"
	scale_matrix "$dim" 7 "$tmp/scale-$dim-rss.dat"
	# Each proxy's line type: its place in "direct gateway nginx haproxy caddy floor", as in chart.gp.
	lts="$(head -n 1 "$tmp/scale-$dim-rps.dat" | awk -v order="$proxies" '{
		n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i
		for (j = 3; j <= NF; j++) printf "%s%d", (j > 3 ? " " : ""), rank[$j] }')"
	# One point only (a smoke run): scaling.gp gets it, for an x range around it.
	if [[ "$(wc -l <"$tmp/scale-$dim-rps.dat")" -eq 2 ]]; then
		single="single=$(awk 'NR == 2 { print $1 }' "$tmp/scale-$dim-rps.dat")"
	fi
	case "$dim" in
	connections) xname="wrk connections (log scale)" scales="logx=1" what="wrk connections (3 backends, small body" ;;
	instances) xname="stringsvc backends" what="backends ($BENCH_CONNECTIONS connections, small body" ;;
	body) xname="request body (log scale; the answer is as big)" scales="logx=1; logrps=1" what="request body size (3 backends, $BENCH_CONNECTIONS connections" ;;
	esac
	gnuplot -e "rps='$tmp/scale-$dim-rps.dat'; p99='$tmp/scale-$dim-p99.dat'; cpu='$tmp/scale-$dim-cpu.dat'" \
		-e "rss='$tmp/scale-$dim-rss.dat'; out='$out-$dim.png'; lts='$lts'; xname='$xname'; $scales; $single" \
		-e "heading='Scaling with $what; $BENCH_DATE, $(nproc) cores)'" "$bench/scaling.gp"
}

# scale_section DIMENSION: the markdown of a scaling curve: a table of proxy x point, then per
# proxy how each figure grew from the first point to the last.
scale_section() {
	local dim="$1" title point_name how
	case "$dim" in
	connections)
		title="wrk connections" point_name="connections"
		how="at that many wrk connections (2 threads), in front of the usual 3 backends, with the small body"
		;;
	instances)
		title="backends" point_name="backends"
		how="in front of that many stringsvc backends (ports 9101 on), all passing in Consul before the proxy starts (the gateway finds them there by itself; nginx, HAProxy and Caddy get a generated server list, floor a \`-backends\` list), at $BENCH_CONNECTIONS connections with the small body"
		;;
	body)
		title="request body size" point_name="body"
		how="with a request body of that size, \`{\"s\":\"<lowercase letters>\"}\` (small: \`{\"s\":\"hello\"}\`, 13 bytes), answered with as big a body, at $BENCH_CONNECTIONS connections in front of the usual 3 backends; before it is measured, one such request through the proxy must come back 200 with the string in upper case. nginx keeps bodies up to 1 MiB in memory as the gateway does, floor holds them whole too (fasthttp's default), HAProxy and Caddy stream them (\`bench/config/\`). The gateway runs these points with the peers' timeouts (\`-try-timeout 3s -budget 10s\`; nginx, HAProxy and floor wait 3 s for an answer): its defaults (250 ms per attempt, 1 s in all) are for small requests, and a route for big bodies declares longer ones (\`try-timeout=\`)"
		;;
	esac
	cat <<-EOF

		## Scaling: $title

		| proxy | $point_name | req/s | p99 ms | CPU µs/req | peak RSS MiB | failed |
		|---|---:|---:|---:|---:|---:|---:|
	EOF
	scale_rows "$dim" | awk '{
		label = $3; sub(/[KM]?i?B$/, " &", label)
		printf "| %s | %s | %d | %.2f | %s | %s | %d |\n", $2, label, $4, $5, $6, $7, $8 }'
	cat <<-EOF

		Each point starts a fresh process of each proxy (peak RSS is a figure of a process's whole
		life), then a ${BENCH_WARMUP} s warm-up and one ${BENCH_DURATION} s measured run $how.
		Failed: non-2xx responses plus socket errors. Chart: the \`-$dim.png\` beside this file.

		Growth from the first point to the last (last/first; ×1 is flat, the points' own ratio in
		brackets is linear growth, more is worse than linear):

	EOF
	scale_rows "$dim" | awk -v unit="$point_name" '
		# ratio A B: B/A, or "-" when A is not a positive number.
		function ratio(a, b) {
			if (a == "-" || b == "-" || a + 0 <= 0) return "-"
			r = b / a
			return "×" (r >= 100 ? sprintf("%.0f", r) : r >= 10 ? sprintf("%.1f", r) : sprintf("%.2f", r))
		}
		{ label = $3; sub(/[KM]?i?B$/, " &", label) }
		!($2 in points) { px[++np] = $2; for (i = 1; i <= 8; i++) first[$2, i] = $i; first[$2, 3] = label }
		{ points[$2]++; for (i = 1; i <= 8; i++) last[$2, i] = $i; last[$2, 3] = label }
		END {
			for (j = 1; j <= np; j++) {
				p = px[j]
				if (points[p] < 2) {
					printf "- %s: one point only (%s %s), no growth to show\n", p, first[p, 3], unit
					continue
				}
				printf "- %s, %s → %s %s (%s): req/s %s, p99 %s, CPU µs/req %s, peak RSS %s\n",
					p, first[p, 3], last[p, 3], unit, ratio(first[p, 1], last[p, 1]),
					ratio(first[p, 4], last[p, 4]), ratio(first[p, 5], last[p, 5]),
					ratio(first[p, 6], last[p, 6]), ratio(first[p, 7], last[p, 7])
			}
		}'
}

# most_instances: "; up to N, 127.0.0.1:9101-91NN, in the scale-instances runs" when those had more
# than three backends; else nothing.
most_instances() {
	awk -F'\t' '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == "scale-instances" && idx["instances"] && $idx["instances"] > n { n = $idx["instances"] }
		END { if (n > 3) printf "; up to %d, 127.0.0.1:9101-%d, in the scale-instances runs", n, 9100 + n }' "$tsv"
}

# fault_section: the markdown of the fault runs.
fault_section() {
	cat <<-'EOF'

		## Fault runs

		| scenario | proxy | failed/total | p99 ms | max ms |
		|---|---|---:|---:|---:|
	EOF
	rows -v gray=0 | awk -F'\t' '
		$1 != "clean" && $1 !~ /^scale-/ { printf "| %s | %s | %d/%d | %.2f | %.1f |\n", $1, $2, $10, $11, $14, $15 }'
	cat <<-'EOF'

		Each fault run starts a fresh proxy on three healthy backends (all passing in Consul), and the
		fault a third of the way into the run (floor, a reference for the cost per request, sits them
		out):
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
		and floor sit these out:
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
		- Everything runs on the same $(nproc) cores in one loopback-only network namespace: wrk, the proxy under test, three stringsvc backends (127.0.0.1:9101-9103$(most_instances)) and a Consul dev agent.
		  Proxies with 2 workers/threads (nginx \`worker_processes 2\`, HAProxy \`nbthread 2\`, Caddy, the gateway and floor \`GOMAXPROCS=2\`); peer configs in \`bench/config/\`, floor in \`bench/floor/\`.

		## Clean runs

		| proxy | req/s | p50 ms | p99 ms | CPU µs/req | of it user | peak RSS MiB | syscalls/req | context switches/req | req/s vs nginx | CPU vs nginx | CPU vs floor |
		|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
	EOF
	clean_ratios nginx >"$tmp/clean-ratios"
	clean_ratios floor >"$tmp/floor-ratios"
	awk -F'\t' -v order="$proxies" -v ratios="$tmp/clean-ratios" -v fratios="$tmp/floor-ratios" '
		BEGIN {
			while ((getline line < ratios) > 0) { split(line, r, " "); rr[r[1]] = r[2]; cr[r[1]] = r[3] }
			while ((getline line < fratios) > 0) { split(line, r, " "); fr[r[1]] = r[3] }
		}
		NR == 1 { next }
		$1 == "clean" { row[$2] = $0 }
		END {
			n = split(order, p, " ")
			for (i = 1; i <= n; i++) {
				if (!(p[i] in row)) continue
				k = split(row[p[i]], f, "\t")
				for (j = k + 1; j <= 27; j++) f[j] = "-" # a TSV from before these columns
				printf "| %s | %d | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[i], f[12], f[13], f[14], f[16], f[25], f[17],
					f[26], f[27], rr[p[i]], cr[p[i]], (p[i] in fr ? fr[p[i]] : "-")
			}
		}' "$tsv"
	rounds="$(awk '{ if ($4 > n) n = $4 } END { print n + 0 }' "$tmp/clean-ratios")"
	if ((rounds > 1)); then
		printf '\n%s\n%s\n%s\n' "Each proxy was measured in $rounds rounds, every proxy in turn in each: its row is its round of" \
			"median CPU per request (direct: req/s), and \"vs nginx\" (\"vs floor\") the median of its ratios to nginx's" \
			"(floor's) in the same round (the machine's speed drifts from minute to minute)."
	fi
	cat <<-'EOF'

		req/s: responses per second (none failed in a clean run). CPU µs/req: user+system CPU time of the
		proxy's processes (nginx: master and workers) during the measured run, per completed request.
		Of it user: the user-mode part (the rest is the kernel's, mostly system calls on loopback TCP).
		Syscalls/req and context switches/req: counted by \`perf stat\` (\`raw_syscalls:sys_enter\`,
		\`context-switches\`) over the proxy's processes during a 5 s run of their own before the
		measured one (counting slows a process down: a Go one more than nginx); "-": no perf.
		Peak RSS: VmHWM summed over those processes at the end of the run.
		floor (`bench/floor/`) is no product but a reference: the thinnest reverse proxy Go and fasthttp
		make (round-robin, prefix stripped, no retries, breakers, discovery or metrics), the cost per
		request a Go/fasthttp gateway cannot go below on this machine.
	EOF
	for dimension in $scale_dimensions; do
		if [[ -n "$(scale_rows "$dimension")" ]]; then scale_section "$dimension"; fi
	done
	if [[ -n "$(rows -v gray=0 | awk '$1 != "clean" && $1 !~ /^scale-/')" ]]; then fault_section; fi
	if [[ -n "$(rows)" ]]; then gray_section; fi
} >"$out.md"
for dimension in $scale_dimensions; do
	if [[ -n "$(scale_rows "$dimension")" ]]; then scale_chart "$dimension"; fi
done
