#!/usr/bin/env bash
# lib.sh - helpers shared by the bench scripts: logging, bounded waits, processes by PID, /proc
# accounting (CPU ticks, peak RSS), one wrk run and its parsed result.
#
# Usage: source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   (defines functions and W; runs nothing)

# log MESSAGE...: a progress line on stderr.
log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# die MESSAGE...: log and exit 1 (the caller's trap cleans up).
die() {
	log "ERROR: $*"
	exit 1
}

# now_us: microseconds since the epoch.
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# sleep_until_us T: sleep until T (microseconds since the epoch); at once if T has passed.
sleep_until_us() {
	local left=$(($1 - $(now_us)))
	((left > 0)) || return 0
	sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat:0:1}" != Z ]]
}

# wait_until SECONDS WHAT COMMAND...: run COMMAND every 0.1 s until it succeeds; fail (status 1,
# with a log line naming WHAT) after SECONDS, or at once if COMMAND returns 2 (it never will).
wait_until() {
	local secs="$1" what="$2" i rc
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		rc=0
		"$@" >/dev/null 2>&1 || rc=$?
		[[ $rc -eq 0 ]] && return 0
		[[ $rc -eq 2 ]] && break
		sleep 0.1
	done
	[[ $rc -eq 2 ]] && log "gave up waiting for: $what" && return 1
	log "timed out after ${secs}s waiting for: $what"
	return 1
}

# wait_exit PID SECONDS: wait (bounded) until PID is gone, then reap it if it is our child.
wait_exit() {
	local pid="$1" secs="$2" i
	for ((i = 0; i < secs * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	alive "$pid" && return 1
	wait "$pid" 2>/dev/null || true
}

# stop_pid PID [SECONDS] [SIGNAL]: send SIGNAL (default TERM), wait up to SECONDS (default 15)
# for the exit, then SIGKILL. Only ever called with PIDs this harness started.
stop_pid() {
	local pid="$1" secs="${2:-15}" sig="${3:-TERM}"
	[[ -n "$pid" ]] || return 0
	alive "$pid" || {
		wait "$pid" 2>/dev/null || true
		return 0
	}
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! wait_exit "$pid" "$secs"; then
		log "PID $pid still running ${secs}s after SIG$sig: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_exit "$pid" 5 || true
	fi
}

# tree PID: print PID and the PIDs of all its descendants.
tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p
				while (q != "" && q != root && q != 0 && q != 1) q = parent[q]
				if (q == root) print p
			}
		}'
}

# cpu_ticks PID: the CPU time (clock ticks) of PID and all its descendants, utime+stime+cutime+
# cstime, a space, and its user-mode part, utime+cutime: one reading of /proc for both.
cpu_ticks() {
	local p all=0 user=0 stat
	local -a f
	for p in $(tree "$1"); do
		stat="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
		# Fields after "pid (comm) ": state is f[0], so utime..cstime are f[11]..f[14].
		read -ra f <<<"${stat##*) }"
		all=$((all + f[11] + f[12] + f[13] + f[14]))
		user=$((user + f[11] + f[13]))
	done
	echo "$all $user"
}

counter_pid="" # count_syscalls's perf, until syscalls_per_request waits for it

# count_syscalls PID SECS OUT: in the background, count for SECS seconds the system calls and
# context switches of PID and its descendants (perf stat, CSV in OUT). Without perf, or where the
# kernel refuses it, OUT stays empty.
count_syscalls() {
	local pids
	pids="$(tree "$1" | paste -sd,)"
	: >"$3"
	command -v perf >/dev/null 2>&1 || return 0
	perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pids" -o "$3" -- sleep "$2" \
		>/dev/null 2>&1 &
	counter_pid=$!
}

# syscalls_per_request OUT REQUESTS: "system calls per request, context switches per request"
# from count_syscalls's OUT (after waiting for it), or "- -".
syscalls_per_request() {
	if [[ -n "${counter_pid:-}" ]]; then wait "$counter_pid" 2>/dev/null || true; fi
	counter_pid=""
	awk -F, -v req="$2" '
		$3 == "raw_syscalls:sys_enter" && $1 ~ /^[0-9]+$/ { sc = $1 }
		$3 == "context-switches" && $1 ~ /^[0-9]+$/ { cs = $1 }
		END { if (sc == "" || cs == "" || req == 0) print "- -"; else printf "%.2f %.2f\n", sc / req, cs / req }
	' "$1" 2>/dev/null || echo "- -"
}

# host_ticks: CPU clock ticks the whole machine spent busy (user, nice, system, irq, softirq: the
# ticks that also land in the processes' utime and stime), a space, and the ticks the hypervisor
# stole; /proc/stat is not namespaced.
host_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9; exit }' /proc/stat; }

# ns_ticks: CPU clock ticks of every process in this PID namespace, the exited ones included
# (through the cutime and cstime of the processes that reaped them).
ns_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{ sub(/.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}

# peak_rss_kib PID: the sum of VmHWM (peak resident set, KiB) of PID and all its descendants.
peak_rss_kib() {
	local p sum=0 kib
	for p in $(tree "$1"); do
		kib="$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" || continue
		sum=$((sum + ${kib:-0}))
	done
	echo "$sum"
}

# W holds the figures of the last parse_wrk: requests duration_us connect read write status
# timeout p50_us p99_us max_us (see post.lua).
declare -A W=()

# parse_wrk OUT: read the BENCH line of a wrk output file into W.
parse_wrk() {
	local line kv
	line="$(grep '^BENCH ' "$1" | tail -n 1)" || die "no BENCH line in $1"
	W=()
	for kv in ${line#BENCH }; do
		# shellcheck disable=SC2034 # W is read by the scripts that source lib.sh
		W[${kv%%=*}]="${kv#*=}"
	done
}

# run_wrk URL SECONDS OUT [CONNECTIONS [BODY_FILE]]: one bounded wrk run (POST via post.lua,
# CONNECTIONS connections, default BENCH_CONNECTIONS, 2 threads, 10 s request timeout; the body of
# BODY_FILE, default or empty: post.lua's small one) with its output in OUT; then parse_wrk OUT.
run_wrk() {
	local url="$1" secs="$2" out="$3" conns="${4:-$BENCH_CONNECTIONS}" body_file="${5:-}"
	BENCH_BODY_FILE="$body_file" timeout --kill-after=5 "$((secs + 30))" \
		wrk -t 2 -c "$conns" -d "${secs}s" --timeout 10s \
		-s "$BENCH_DIR/post.lua" "$url" >"$out" 2>&1 || {
		cat "$out" >&2
		die "wrk failed: $url"
	}
	parse_wrk "$out"
}
