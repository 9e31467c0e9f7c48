#!/usr/bin/env bash
# measure.sh - the measuring part of bench/run.sh: Consul, three stringsvc backends and each proxy
# in turn (the gateway, nginx, HAProxy, Caddy, floor), clean runs (BENCH_CLEAN_ROUNDS rounds, every
# proxy in turn in each), scaling curves (wrk connections, backends, body size), fault runs, a
# load spike and gray failures (a graysvc in place of one backend) with wrk; writes one TSV row
# per run.
#
# Who takes part (takes_part): every proxy in the clean runs and the scaling curves; in the fault
# runs, the spike and the gray failures all but floor (a reference for the cost per request, with
# nothing to survive a fault), Caddy not in the spike and the gray failures, and only the gateway
# in the Consul outage (the peers have a static list of the backends).
#
# Usage: (started by bench/run.sh, inside a loopback-only network namespace of its own, where it
#        is PID 1 of a PID namespace, so everything it starts dies with it)
#        bench/measure.sh RUN_DIR TSV CONSUL_BIN
# Reads BENCH_DIR, BENCH_PROXIES, BENCH_FAULTS, BENCH_CONNECTIONS, BENCH_SPIKE_CONNECTIONS,
# BENCH_DURATION, BENCH_WARMUP, BENCH_CLEAN_ROUNDS, BENCH_LONG_DURATION, BENCH_SCALING,
# BENCH_SCALING_CONNECTIONS, BENCH_SCALING_INSTANCES and BENCH_SCALING_BODIES (sizes in bytes, or
# "small") from the environment (run.sh sets and checks them).
# Binaries: RUN_DIR/bin/gateway, RUN_DIR/bin/stringsvc and RUN_DIR/bin/graysvc (run.sh's snapshot
# of bin/), and RUN_DIR/bin/floor when floor is measured (run.sh builds it from bench/floor).
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 ]] || die "usage: $0 RUN_DIR TSV CONSUL_BIN"
run="$1" tsv="$2" consul_bin="$3"
bin="$run/bin"
clk_tck="$(getconf CLK_TCK)"

read -ra proxies <<<"$BENCH_PROXIES"
declare -A port=([gateway]=8080 [nginx]=8081 [haproxy]=8082 [caddy]=8083 [floor]=8084)
backends=(9101 9102 9103)
victim=9102 # the backend the kill and freeze scenarios hit, and a graysvc replaces
# instances: how many backends run, on ports 9101 to 9100+instances: the three above, but for
# the scale-instances runs (at most 30: ports 9101 to 9130).
instances="${#backends[@]}"
body='{"s":"hello"}' # post.lua's small body
# The graysvc flags of each gray-failure scenario.
declare -A gray_flags=(
	[slow]="-delay 50ms"
	[tail]="-delay 200ms -delay-share 0.1"
	[errors]="-error-share 0.3"
	[stall]="-stall-every 800ms -stall-for 300ms"
)

# gateway_flags: flags the gateway starts with besides -listen (the body scaling points' timeouts).
gateway_flags=()

# pid[NAME]: what this script started and has not stopped yet (consul, be9101.., proxy).
declare -A pid=()

# cleanup: the proxy first, then the backends together (they deregister and drain 3 s), Consul last.
cleanup() {
	local name
	local -a names=(proxy)
	trap - EXIT INT TERM
	for name in "${!pid[@]}"; do
		if [[ "$name" == be* ]]; then names+=("$name"); fi
	done
	for name in "${names[@]}"; do
		if [[ -n "${pid[$name]:-}" ]]; then kill -CONT "${pid[$name]}" 2>/dev/null || true; fi # a frozen one too
		if [[ -n "${pid[$name]:-}" ]]; then kill -TERM "${pid[$name]}" 2>/dev/null || true; fi
	done
	for name in "${names[@]}" consul; do
		if [[ -n "${pid[$name]:-}" ]]; then stop_pid "${pid[$name]}" 10; fi
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Refuse to send any load unless the only network interface is lo.
[[ "$(ip -o link show | awk -F': ' '{ print $2 }')" == lo ]] || die "not in a loopback-only network namespace"

# wrk, the proxies and the backends inherit this: the thousands of client connections of the
# spike and of the largest scale-connections point, each with an upstream one at the proxy, need
# far more descriptors than the usual 1024. 65536 where allowed, else the hard limit (a container
# may forbid raising it).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
most_connections="$BENCH_CONNECTIONS"
if [[ " $BENCH_FAULTS " == *" spike "* ]]; then most_connections="$BENCH_SPIKE_CONNECTIONS"; fi
if [[ " $BENCH_SCALING " == *" connections "* ]]; then
	for point in $BENCH_SCALING_CONNECTIONS; do
		((point <= most_connections)) || most_connections="$point"
	done
fi
(($(ulimit -n) >= 4 * most_connections)) ||
	log "WARNING: open files limit $(ulimit -n) is low for $most_connections connections (spike or scale-connections)"

# --- Consul and the backends ---------------------------------------------------------------------

consul_leader() { curl -fsS --max-time 1 127.0.0.1:8500/v1/status/leader | grep -q 127.0.0.1; }

start_consul() {
	CHECKPOINT_DISABLE=1 "$consul_bin" agent -dev -bind 127.0.0.1 -client 127.0.0.1 \
		-hcl 'disable_update_check = true' >>"$run/consul.log" 2>&1 &
	pid[consul]=$!
	disown "$!" # no job notices ("Killed") on stderr; stop_pid polls /proc
	wait_until 30 "Consul leader" consul_leader || die "Consul did not start (see $run/consul.log)"
}

# stop_consul: SIGTERM (a dev agent exits 1 on it: normal), bounded.
stop_consul() {
	stop_pid "${pid[consul]}" 10
	unset 'pid[consul]'
}

# passing [PORT]: print how many stringsvc instances (on PORT only, if given) pass in Consul.
passing() {
	curl -fsS --max-time 2 '127.0.0.1:8500/v1/health/service/stringsvc?passing' |
		jq --argjson port "${1:-0}" '[.[] | select($port == 0 or .Service.Port == $port)] | length'
}
all_passing() { [[ "$(passing)" == "${#backends[@]}" ]]; }
port_passing() { [[ "$(passing "$1")" == 1 ]]; }
# n_passing N: exactly N stringsvc instances pass in Consul.
n_passing() { [[ "$(passing)" == "$1" ]]; }

# start_backend PORT [GRAYSVC_FLAGS...]: a stringsvc on PORT, or with flags a graysvc (it
# registers as stringsvc and passes its check, but degrades its answers as the flags say).
start_backend() {
	local p="$1"
	shift
	if [[ $# -gt 0 ]]; then
		CONSUL_HTTP_ADDR=127.0.0.1:8500 "$bin/graysvc" -listen "127.0.0.1:$p" -log-json -log-level warn "$@" \
			>>"$run/graysvc-$p.log" 2>&1 &
	else
		CONSUL_HTTP_ADDR=127.0.0.1:8500 LOG_JSON=true LOG_LEVEL=warn \
			"$bin/stringsvc" -listen "127.0.0.1:$p" >>"$run/stringsvc-$p.log" 2>&1 &
	fi
	pid[be$p]=$!
	disown "$!" # no job notices ("Killed") on stderr; stop_pid polls /proc
}

# stop_backend PORT: SIGTERM; it deregisters, drains (stringsvc 3 s, graysvc 0) and exits
# (bounded: 20 s).
stop_backend() {
	stop_pid "${pid[be$1]}" 20
	unset "pid[be$1]"
}

# healthy: Consul and all three backends run (start what is missing; thaw a frozen one), and all
# three pass in Consul.
healthy() {
	local p
	if [[ -z "${pid[consul]:-}" ]] || ! alive "${pid[consul]}"; then start_consul; fi
	for p in "${backends[@]}"; do
		if [[ -n "${pid[be$p]:-}" ]] && alive "${pid[be$p]}"; then continue; fi
		if [[ -n "${pid[be$p]:-}" ]]; then wait "${pid[be$p]}" 2>/dev/null || true; fi
		log "starting backend :$p"
		start_backend "$p"
	done
	wait_until 30 "3 stringsvc instances passing in Consul" all_passing || die "backends not passing"
}

# set_instances N: exactly N backends, stringsvc on ports 9101 to 9100+N (start the missing ones;
# SIGTERM those above together, then wait for each to exit), the peers' configs rendered and
# checked for them, and exactly N passing in Consul.
set_instances() {
	local n="$1" p
	local -a stopping=()
	for ((p = 9101; p <= 9130; p++)); do
		if ((p <= 9100 + n)); then
			if [[ -n "${pid[be$p]:-}" ]] && alive "${pid[be$p]}"; then continue; fi
			start_backend "$p"
		elif [[ -n "${pid[be$p]:-}" ]]; then
			kill -TERM "${pid[be$p]}" 2>/dev/null || true
			stopping+=("$p")
		fi
	done
	for p in "${stopping[@]}"; do stop_backend "$p"; done
	instances="$n"
	validate_configs
	wait_until 60 "exactly $n stringsvc instances passing in Consul" n_passing "$n" ||
		die "not exactly $n backends passing in Consul"
}

# --- the proxies ---------------------------------------------------------------------------------

# takes_part SCENARIO NAME: whether proxy NAME is measured in SCENARIO (a fault, spike or gray
# failure of BENCH_FAULTS; the clean runs and scaling curves take every proxy): the rule the
# header states, here only.
takes_part() {
	case "$1:$2" in
	# floor is the reference for the cost per request: it has no resilience to show.
	*:floor) return 1 ;;
	# Only the gateway reads Consul; the peers have a static list of the backends.
	consul:*) [[ "$2" == gateway ]] ;;
	# Caddy sits out the spike and the gray failures.
	spike:caddy | slow:caddy | tail:caddy | errors:caddy | stall:caddy) return 1 ;;
	*) return 0 ;;
	esac
}

# render NAME TEMPLATE: the config template with the run dir and NAME's port filled in, and each
# line holding @SERVER@ written once per running backend (instances of them): @SERVER@ its
# address, @INDEX@ its number from 1.
render() {
	awk -v run="$run" -v port="${port[$1]}" -v n="$instances" '
		{ gsub(/@RUN@/, run); gsub(/@PORT@/, port) }
		!/@SERVER@/ { print; next }
		{
			for (i = 1; i <= n; i++) {
				line = $0
				gsub(/@SERVER@/, "127.0.0.1:" (9100 + i), line)
				gsub(/@INDEX@/, i, line)
				print line
			}
		}' "$BENCH_DIR/config/$2.tmpl" >"$run/$2"
}

# floor_backends: floor's -backends: the running backends (instances of them), comma-separated.
floor_backends() {
	local i list=""
	for ((i = 1; i <= instances; i++)); do list+="${list:+,}127.0.0.1:$((9100 + i))"; done
	echo "$list"
}

caddy_env=(GOMAXPROCS=2 HOME="$run/caddy-home" XDG_DATA_HOME="$run/caddy-home" XDG_CONFIG_HOME="$run/caddy-home")

validate_configs() {
	render nginx nginx.conf
	render haproxy haproxy.cfg
	render caddy Caddyfile
	mkdir -p "$run/caddy-home"
	nginx -q -t -e "$run/nginx-error.log" -c "$run/nginx.conf" || die "nginx -t failed"
	haproxy -q -c -f "$run/haproxy.cfg" || die "haproxy -c failed"
	env "${caddy_env[@]}" caddy validate --config "$run/Caddyfile" --adapter caddyfile \
		>>"$run/caddy.log" 2>&1 || die "caddy validate failed (see $run/caddy.log)"
}

start_proxy() {
	case "$1" in
	gateway)
		# GOMEMLIMIT as nomad/gateway.nomad gives it (memory = 256 MiB: the gateway takes 90%).
		GOMAXPROCS=2 GOMEMLIMIT=230MiB CONSUL_HTTP_ADDR=127.0.0.1:8500 LOG_LEVEL=warn \
			"$bin/gateway" -listen "127.0.0.1:${port[gateway]}" "${gateway_flags[@]}" >>"$run/gateway.log" 2>&1 &
		;;
	nginx) nginx -e "$run/nginx-error.log" -c "$run/nginx.conf" >>"$run/nginx.log" 2>&1 & ;;
	haproxy) haproxy -db -f "$run/haproxy.cfg" >>"$run/haproxy.log" 2>&1 & ;;
	caddy)
		env "${caddy_env[@]}" caddy run --config "$run/Caddyfile" --adapter caddyfile \
			>>"$run/caddy.log" 2>&1 &
		;;
	floor)
		GOMAXPROCS=2 "$bin/floor" -listen "127.0.0.1:${port[floor]}" -backends "$(floor_backends)" \
			>>"$run/floor.log" 2>&1 &
		;;
	esac
	pid[proxy]=$!
	disown "$!" # no job notices ("Killed") on stderr; stop_pid polls /proc
	wait_until 30 "$1 answering" up "${pid[proxy]}" "$(url "$1")" || die "$1 does not answer (logs in $run)"
}

# up PID URL: the proxy answers (status 2, for wait_until: never will, if PID exited).
up() {
	alive "$1" || return 2
	answers "$2"
}

stop_proxy() {
	stop_pid "${pid[proxy]}" 15
	unset 'pid[proxy]'
}

url() {
	if [[ "$1" == direct ]]; then echo "http://127.0.0.1:9101/uppercase"; else echo "http://127.0.0.1:${port[$1]}/stringsvc/uppercase"; fi
}
answers() { [[ "$(curl -fsS --max-time 2 -H 'Content-Type: application/json' -d "$body" "$1")" == '{"v":"HELLO"}' ]]; }

# make_body BYTES FILE: a JSON body of BYTES bytes in FILE: {"s":"abc...xyzabc..."}, BYTES - 8
# lowercase letters.
make_body() {
	awk -v n="$(($1 - 8))" 'BEGIN {
		a = "abcdefghijklmnopqrstuvwxyz"
		printf "{\"s\":\""
		for (; n >= 26; n -= 26) printf "%s", a
		printf "%s\"}", substr(a, 1, n)
	}' >"$2"
	[[ "$(stat -c %s "$2")" == "$1" ]] || die "make_body: $2 is not $1 bytes"
}

# passes_body NAME FILE: one POST of FILE through NAME is answered 200 with FILE's string in upper
# case (dies if not: a proxy that refuses or mangles big bodies must not be measured).
passes_body() {
	local name="$1" file="$2" code want
	code="$(curl -sS --max-time 10 -o "$run/body-check-$name.out" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$file" "$(url "$name")")" || code="no answer (curl failed)"
	[[ "$code" == 200 ]] ||
		die "$name answered $code to a POST of $(stat -c %s "$file") bytes (want 200); answer in $run/body-check-$name.out, logs in $run"
	want="$(tr '[:lower:]' '[:upper:]' <"$file" | sed 's/^{"S":/{"v":/')"
	[[ "$(<"$run/body-check-$name.out")" == "$want" ]] ||
		die "$name answered 200 to a POST of $(stat -c %s "$file") bytes, but not with its string in upper case; answer in $run/body-check-$name.out"
}

# --- one run -------------------------------------------------------------------------------------

# sample: note the machine's and this namespace's CPU ticks, and the time, for disturbance.
sample() {
	read -r s_busy s_steal <<<"$(host_ticks)"
	s_ns="$(ns_ticks)" s_time="$(now_us)"
}

# disturbance: since sample, the share (%) of the machine's CPU time that processes outside this
# namespace (anything else running on the machine) used, a space, and the share the hypervisor
# stole.
disturbance() {
	local busy steal ns time
	read -r busy steal <<<"$(host_ticks)"
	ns="$(ns_ticks)" time="$(now_us)"
	awk -v b=$((busy - s_busy)) -v st=$((steal - s_steal)) -v n=$((ns - s_ns)) -v t=$((time - s_time)) \
		-v tck="$clk_tck" -v cpus="$(nproc)" 'BEGIN {
			all = t / 1e6 * tck * cpus; o = (b - n) * 100 / all
			printf "%.1f %.1f\n", (o > 0 ? o : 0), st * 100 / all
		}'
}

# record SCENARIO PROXY CPU_TICKS RSS_KIB [UPSTREAM [CONNECTIONS [INSTANCES [BODY_BYTES [USER_TICKS
# [SYSCALLS_PER_REQ CSWITCHES_PER_REQ]]]]]]: append the figures of the last run_wrk (W), the
# disturbance since sample, the requests the backends counted during the run ("-": not measured),
# its connections (default BENCH_CONNECTIONS), the backends behind the proxy (default 3), the size
# of the request body (default the small one's), and the proxy's user-mode CPU ticks, system calls
# and context switches per request ("-": not measured) to the TSV.
record() {
	local other steal
	read -r other steal <<<"$(disturbance)"
	awk -v OFS='\t' -v sc="$1" -v px="$2" -v ticks="$3" -v rss="$4" -v other="$other" -v steal="$steal" \
		-v tck="$clk_tck" -v up="${5:--}" -v conns="${6:-$BENCH_CONNECTIONS}" \
		-v inst="${7:-${#backends[@]}}" -v bytes="${8:-${#body}}" \
		-v uticks="${9:--}" -v scalls="${10:--}" -v cswitch="${11:--}" \
		-v req="${W[requests]}" -v dur="${W[duration_us]}" -v c="${W[connect]}" -v r="${W[read]}" \
		-v w="${W[write]}" -v st="${W[status]}" -v to="${W[timeout]}" \
		-v p50="${W[p50_us]}" -v p99="${W[p99_us]}" -v mx="${W[max_us]}" 'BEGIN {
			failed = st + c + r + w + to; total = req + c + r + w + to
			cpu = (ticks == "-" || req == 0) ? "-" : sprintf("%.1f", ticks * 1e6 / tck / req)
			mib = (rss == "-") ? "-" : sprintf("%.1f", rss / 1024)
			extra = (up == "-" || req == 0) ? "-" : sprintf("%.1f", (up - req) * 100 / req)
			print sc, px, sprintf("%.2f", dur / 1e6), req, c, r, w, st, to, failed, total,
				sprintf("%.0f", (req - st) / (dur / 1e6)), sprintf("%.3f", p50 / 1000),
				sprintf("%.3f", p99 / 1000), sprintf("%.3f", mx / 1000), cpu, mib, other, steal,
				conns, up, extra, inst, bytes,
				(uticks == "-" || req == 0) ? "-" : sprintf("%.1f", uticks * 1e6 / tck / req), scalls, cswitch
		}' >>"$tsv"
}

# clean NAME [SCENARIO CONNECTIONS [BODY_FILE]]: a fresh proxy (none for direct), a warm-up, then
# the measured run with the proxy's CPU time and peak RSS, as a row SCENARIO (default clean) at
# CONNECTIONS (default BENCH_CONNECTIONS) on the running backends, with the body of BODY_FILE
# (default or empty: the small one; a file's is first sent once through the proxy: passes_body).
clean() {
	local name="$1" scenario="${2:-clean}" conns="${3:-$BENCH_CONNECTIONS}" file="${4:-}" target="" t0 t1 u0 u1
	local per_syscalls per_cswitch
	local bytes="${#body}" out
	[[ -z "$file" ]] || bytes="$(stat -c %s "$file")"
	out="$run/wrk-$scenario-$name.out"
	[[ "$scenario" == clean ]] || out="$run/wrk-$scenario-$conns-$instances-$bytes-$name.out"
	[[ "$name" == direct ]] || {
		start_proxy "$name"
		target="${pid[proxy]}"
	}
	[[ -z "$file" ]] || passes_body "$name" "$file"
	log "$scenario${clean_round:+ (round $clean_round of $BENCH_CLEAN_ROUNDS)}: $name: $conns connections, $instances backends, $bytes-byte body: warm-up ${BENCH_WARMUP}s, run ${BENCH_DURATION}s"
	run_wrk "$(url "$name")" "$BENCH_WARMUP" "$run/wrk-warmup.out" "$conns" "$file"
	per_syscalls=- per_cswitch=-
	if [[ -n "$target" && "$scenario" == clean && "${clean_round:-1}" == 1 ]]; then
		# Counting system calls slows a process down (a Go one more than nginx: more threads and
		# context switches), so it gets a run of its own, before the measured one: 5 s, of
		# which perf counts the first 4 (it must end within the run).
		count_syscalls "$target" 4 "$run/perf-$name.csv"
		run_wrk "$(url "$name")" 5 "$run/wrk-count-$name.out" "$conns" "$file"
		read -r per_syscalls per_cswitch <<<"$(syscalls_per_request "$run/perf-$name.csv" \
			"$((W[requests] * 4 / 5))")"
	fi
	[[ -z "$target" ]] || read -r t0 u0 <<<"$(cpu_ticks "$target")"
	sample
	run_wrk "$(url "$name")" "$BENCH_DURATION" "$out" "$conns" "$file"
	if [[ -z "$target" ]]; then
		record "$scenario" "$name" - - - "$conns" "$instances" "$bytes"
	else
		read -r t1 u1 <<<"$(cpu_ticks "$target")"
		record "$scenario" "$name" "$((t1 - t0))" "$(peak_rss_kib "$target")" - "$conns" "$instances" "$bytes" \
			"$((u1 - u0))" "$per_syscalls" "$per_cswitch"
		stop_proxy
	fi
	log "$scenario: $name: ${W[requests]} requests, $(tail -n 1 "$tsv" | cut -f10) failed, p99 ${W[p99_us]} µs; other processes, steal: $(tail -n 1 "$tsv" | cut -f18,19 --output-delimiter='%, ')% CPU"
}

# The faults, each started a third of the way into the run.
fault_kill() { kill -KILL "${pid[be$victim]}"; }
fault_freeze() { kill -STOP "${pid[be$victim]}"; }
fault_rolling() {
	local p
	for p in "${backends[@]}"; do
		log "rolling: backend :$p: SIGTERM, wait for the exit, start again"
		stop_backend "$p"
		start_backend "$p"
		wait_until 20 "backend :$p passing" port_passing "$p" || die "backend :$p not passing"
	done
}
fault_consul() {
	local t0
	t0="$(now_us)"
	log "consul: stopping Consul for 10 s"
	stop_consul
	sleep_until_us $((t0 + 10000000))
	log "consul: starting Consul again"
	start_consul
}

# fault SCENARIO NAME: fresh proxy on healthy backends, warm-up, then a run with the fault.
fault() {
	local scenario="$1" name="$2" secs="$BENCH_DURATION" t0 wrk_pid
	[[ "$scenario" == rolling || "$scenario" == consul ]] && secs="$BENCH_LONG_DURATION"
	healthy
	start_proxy "$name"
	log "fault: $scenario: $name: warm-up ${BENCH_WARMUP}s, run ${secs}s"
	run_wrk "$(url "$name")" "$BENCH_WARMUP" "$run/wrk-warmup.out"
	sample
	t0="$s_time"
	run_wrk "$(url "$name")" "$secs" "$run/wrk-$scenario-$name.out" &
	wrk_pid=$!
	sleep_until_us $((t0 + secs * 1000000 / 3))
	"fault_$scenario"
	wait "$wrk_pid" || die "wrk run failed: $scenario $name"
	parse_wrk "$run/wrk-$scenario-$name.out" # run_wrk ran in a subshell: read its figures here
	record "$scenario" "$name" - -
	stop_proxy
	if [[ "$scenario" == freeze ]]; then
		kill -CONT "${pid[be$victim]}"
		stop_backend "$victim"
	fi
	log "fault: $scenario: $name: $(tail -n 1 "$tsv" | cut -f10,11 --output-delimiter=' of ') failed, max ${W[max_us]} µs; other processes, steal: $(tail -n 1 "$tsv" | cut -f18,19 --output-delimiter='%, ')% CPU"
}

# --- load spike and gray failures: what the proxies cost upstream -------------------------------

# served PORT: the backend's stringsvc_requests_total, the requests it served (a graysvc counts
# its injected failures and delayed answers too); fails if it does not answer.
served() {
	curl -fsS --max-time 5 "127.0.0.1:$1/metrics" |
		awk '/^stringsvc_requests_total\{/ { t += $NF } END { printf "%.0f\n", t }'
}

# upstream_total: served summed over the three backends; fails if one of them does not answer.
upstream_total() {
	local p n sum=0
	for p in "${backends[@]}"; do
		n="$(served "$p")" || return 1
		sum=$((sum + n))
	done
	echo "$sum"
}

# upstream_settled: upstream_total once it has stood still for 0.5 s (longer than any graysvc
# holds a request, so that requests still held or queued when wrk stopped are in), at most 5 s.
upstream_settled() {
	local prev cur i
	cur="$(upstream_total)" || return 1
	for ((i = 0; i < 10; i++)); do
		prev="$cur"
		sleep 0.5
		cur="$(upstream_total)" || return 1
		[[ "$cur" != "$prev" ]] || break
	done
	echo "$cur"
}

# spike NAME: a fresh proxy on healthy backends; after the warm-up, three runs back to back
# against the same proxy process: BENCH_CONNECTIONS, BENCH_SPIKE_CONNECTIONS, BENCH_CONNECTIONS
# again (rows spike-before, spike, spike-after), each with the upstream requests it caused.
spike() {
	local name="$1" phase conns u0 u1
	healthy
	start_proxy "$name"
	log "spike: $name: warm-up ${BENCH_WARMUP}s, then ${BENCH_DURATION}s at $BENCH_CONNECTIONS, $BENCH_SPIKE_CONNECTIONS, $BENCH_CONNECTIONS connections"
	run_wrk "$(url "$name")" "$BENCH_WARMUP" "$run/wrk-warmup.out"
	u0="$(upstream_settled)" || die "cannot read the backends' /metrics"
	for phase in spike-before spike spike-after; do
		conns="$BENCH_CONNECTIONS"
		[[ "$phase" != spike ]] || conns="$BENCH_SPIKE_CONNECTIONS"
		sample
		run_wrk "$(url "$name")" "$BENCH_DURATION" "$run/wrk-$phase-$name.out" "$conns"
		# Between the runs no settling: the next one follows at once, on the state this one left.
		if [[ "$phase" == spike-after ]]; then u1="$(upstream_settled)"; else u1="$(upstream_total)"; fi ||
			die "cannot read the backends' /metrics"
		record "$phase" "$name" - - "$((u1 - u0))" "$conns"
		u0="$u1"
		log "spike: $phase: $name: $(tail -n 1 "$tsv" | cut -f10,11 --output-delimiter=' of ') failed, p99 ${W[p99_us]} µs, extra upstream $(tail -n 1 "$tsv" | cut -f22)%"
	done
	stop_proxy
}

# gray SCENARIO NAME: a fresh proxy, backend :victim being a graysvc; warm-up, then one run with
# the upstream requests it caused.
gray() {
	local scenario="$1" name="$2" u0 u1
	alive "${pid[be$victim]}" || die "the graysvc on :$victim exited (see $run/graysvc-$victim.log)"
	wait_until 30 "3 instances passing in Consul" all_passing || die "backends not passing"
	start_proxy "$name"
	log "gray: $scenario: $name: warm-up ${BENCH_WARMUP}s, run ${BENCH_DURATION}s"
	run_wrk "$(url "$name")" "$BENCH_WARMUP" "$run/wrk-warmup.out"
	u0="$(upstream_settled)" || die "cannot read the backends' /metrics"
	sample
	run_wrk "$(url "$name")" "$BENCH_DURATION" "$run/wrk-$scenario-$name.out"
	u1="$(upstream_settled)" || die "cannot read the backends' /metrics"
	record "$scenario" "$name" - - "$((u1 - u0))"
	stop_proxy
	log "gray: $scenario: $name: $(tail -n 1 "$tsv" | cut -f10,11 --output-delimiter=' of ') failed, p99 ${W[p99_us]} µs, extra upstream $(tail -n 1 "$tsv" | cut -f22)%"
}

# gray_scenario SCENARIO: backend :victim replaced by a graysvc with the scenario's flags, one
# run per proxy that takes part (not Caddy, not floor), then a stringsvc again.
gray_scenario() {
	local scenario="$1" name
	local -a flags
	read -ra flags <<<"${gray_flags[$scenario]}"
	healthy
	log "gray: $scenario: backend :$victim replaced by graysvc ${flags[*]}"
	stop_backend "$victim"
	start_backend "$victim" "${flags[@]}"
	for name in "${proxies[@]}"; do
		if takes_part "$scenario" "$name"; then gray "$scenario" "$name"; fi
	done
	log "gray: $scenario: a stringsvc on :$victim again"
	stop_backend "$victim"
	healthy
}

# --- scaling curves: what more connections, backends or bytes cost ------------------------------

# all_served: served of each running backend (ports 9101 to 9100+instances), one a line.
all_served() {
	local p
	for ((p = 9101; p <= 9100 + instances; p++)); do served "$p" || return 1; done
}

# scale_instances_point NAME: clean NAME at BENCH_CONNECTIONS as a scale-instances row; warns if
# one of the backends served nothing meanwhile (the proxy did not spread the load over all).
scale_instances_point() {
	local name="$1" before after idle
	before="$(all_served)" || die "cannot read the backends' /metrics"
	clean "$name" scale-instances "$BENCH_CONNECTIONS"
	after="$(all_served)" || die "cannot read the backends' /metrics"
	idle="$(paste <(echo "$before") <(echo "$after") | awk '$2 == $1 { printf " :%d", 9100 + NR }')"
	[[ -z "$idle" ]] || log "WARNING: scale-instances: $name sent nothing to backend$idle of $instances"
}

# scale DIMENSION: for each point of BENCH_SCALING_<DIMENSION> in turn, a fresh process of each
# proxy measured (clean) at that point, everything else as usual (3 backends, BENCH_CONNECTIONS,
# the small body); rows scale-DIMENSION. The instances dimension ends on the usual 3 backends.
scale() {
	local dimension="$1" point name file
	healthy
	case "$dimension" in
	connections)
		for point in $BENCH_SCALING_CONNECTIONS; do
			for name in "${proxies[@]}"; do clean "$name" scale-connections "$point"; done
		done
		;;
	instances)
		for point in $BENCH_SCALING_INSTANCES; do
			log "scale-instances: $point backends"
			set_instances "$point"
			for name in "${proxies[@]}"; do scale_instances_point "$name"; done
		done
		log "scale-instances: back to ${#backends[@]} backends"
		set_instances "${#backends[@]}"
		;;
	body)
		# Big bodies take the peers' timeouts (nginx: 3 s per try, 3 tries): the gateway's defaults
		# (250 ms per attempt, 1 s budget) are for small requests, and at 256 KiB on 2 shared cores
		# every proxy's p99 is about 400 ms. A route for such bodies declares them (try-timeout=).
		gateway_flags=(-try-timeout 3s -budget 10s)
		for point in $BENCH_SCALING_BODIES; do
			file=""
			if [[ "$point" != small ]]; then
				file="$run/body-$point.json"
				make_body "$point" "$file"
			fi
			for name in "${proxies[@]}"; do clean "$name" scale-body "$BENCH_CONNECTIONS" "$file"; done
		done
		gateway_flags=()
		;;
	esac
}

# --- the run -------------------------------------------------------------------------------------

printf 'scenario\tproxy\tseconds\trequests\tconnect_err\tread_err\twrite_err\tnon2xx\ttimeouts\tfailed\ttotal\tok_rps\tp50_ms\tp99_ms\tmax_ms\tcpu_us_per_req\tpeak_rss_mib\tother_cpu_pct\tsteal_pct\tconnections\tupstream_requests\textra_upstream_pct\tinstances\tbody_bytes\tuser_us_per_req\tsyscalls_per_req\tcswitches_per_req\n' >"$tsv"
validate_configs
log "starting Consul and backends ${backends[*]}"
start_consul
healthy

for ((clean_round = 1; clean_round <= BENCH_CLEAN_ROUNDS; clean_round++)); do
	for name in direct "${proxies[@]}"; do
		clean "$name"
	done
done
unset clean_round # the scaling points' clean runs are no round
for dimension in $BENCH_SCALING; do
	scale "$dimension"
done
for scenario in $BENCH_FAULTS; do
	case "$scenario" in
	slow | tail | errors | stall) gray_scenario "$scenario" ;;
	*)
		for name in "${proxies[@]}"; do
			takes_part "$scenario" "$name" || continue
			if [[ "$scenario" == spike ]]; then spike "$name"; else fault "$scenario" "$name"; fi
		done
		;;
	esac
done
log "all runs done"
