#!/usr/bin/env bash
# run.sh - benchmark the gateway side by side with nginx, HAProxy, Caddy and floor (bench/floor: a
# bare fasthttp reverse proxy, the reference for what Go and fasthttp themselves cost) in front of
# the same three stringsvc backends, in one run: clean runs (req/s, p50, p99, CPU per request, peak RSS),
# scaling curves (the same figures at more wrk connections, more backends, bigger bodies), fault
# runs (a backend killed, frozen, restarted one by one; Consul restarted), a load spike and gray
# failures (a backend slow, slow now and then, failing a share of requests, stalling), then a
# markdown report, a TSV and PNG charts in bench/results/.
#
# Usage (as root): bench/run.sh
#   BENCH_PROXIES        the proxies to measure (default "gateway nginx haproxy caddy floor")
#   BENCH_CONNECTIONS    wrk connections (default 64)
#   BENCH_DURATION       seconds of each measured run (default 15; e.g. 4 for a quick try)
#   BENCH_WARMUP         seconds of the warm-up run before each measured run (default 3)
#   BENCH_CLEAN_ROUNDS   rounds of clean runs, every proxy in turn in each (default 3): the report
#                        shows each proxy's median round and the medians of its same-round ratios
#   BENCH_FAULTS         the fault runs after the clean runs (default: all of "kill freeze rolling
#                        consul spike slow tail errors stall"; empty: clean runs only). Caddy sits
#                        out spike and the gray failures, floor all of them (measure.sh's
#                        takes_part), consul is the gateway's alone:
#                        spike   three runs back to back on one proxy: BENCH_CONNECTIONS, then
#                                BENCH_SPIKE_CONNECTIONS, then BENCH_CONNECTIONS again
#                        slow    backend :9102 replaced by a graysvc answering every request 50 ms late
#                        tail    ... by a graysvc answering 1 request in 10 200 ms late
#                        errors  ... by a graysvc answering 30% of requests 500
#                        stall   ... by a graysvc holding every request for 300 ms every 800 ms
#                        (its health check passes all along; a stringsvc again after the scenario)
#   BENCH_SPIKE_CONNECTIONS  wrk connections of the spike (default 4096)
#   BENCH_SCALING        the scaling curves after the clean runs (default: all of "connections
#                        instances body"; empty: none). Each point of a curve starts a fresh
#                        process of every proxy, a warm-up and one measured run:
#                        connections  wrk connections; 3 backends, small body
#                        instances    stringsvc backends (ports 9101..); BENCH_CONNECTIONS, small
#                                     body; then back to the usual 3
#                        body         request body size; 3 backends, BENCH_CONNECTIONS
#   BENCH_SCALING_CONNECTIONS  its points, 2 to 8192 (default "16 256 1024 4096")
#   BENCH_SCALING_INSTANCES    its points, 1 to 30 (default "3 10 30")
#   BENCH_SCALING_BODIES       its points: "small" ({"s":"hello"}, 13 bytes) or a size of the
#                        whole body {"s":"<lowercase letters>"}, in bytes or with KiB or MiB, 9
#                        bytes to 1MiB (default "small 16KiB 256KiB")
#   BENCH_RESULTS        where the report goes (default bench/results; e.g. a temp dir for a smoke run)
#   BENCH_KEEP=1         keep the temp dir (logs, configs, raw wrk output) even after a success
#   BENCH_LONG_DURATION  seconds of the rolling restart and Consul outage runs, which take ~15 s
#                        and ~12 s themselves (default: BENCH_DURATION, at least 30)
#
# Installs what is missing (wrk, haproxy, nginx, caddy, gnuplot-nox, jq) with apt-get, builds
# bin/ (scripts/build.sh), floor into the run dir (when measured) and gets Consul
# (scripts/agents.sh consul); then runs bench/measure.sh
# in a loopback-only network namespace (own mount and PID namespaces: whatever it starts dies with
# it) and bench/report.sh. Writes bench/results/<UTC date>-<host>.{md,tsv,png},
# <UTC date>-<host>-gray.png (spike and gray failures, when run) and
# <UTC date>-<host>-{connections,instances,body}.png (the scaling curves run), the copies latest.md,
# latest.png, latest-gray.png and latest-connections.png etc.; prints the markdown. The temp dir is
# removed, or kept (and its path printed) if something failed.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

[[ "$EUID" -eq 0 ]] || die "run as root (apt-get, unshare)"

# The command as given, with the settings taken from the environment.
invocation="bench/run.sh"
for var in BENCH_SCALING_BODIES BENCH_SCALING_INSTANCES BENCH_SCALING_CONNECTIONS BENCH_SCALING \
	BENCH_LONG_DURATION BENCH_CLEAN_ROUNDS BENCH_WARMUP BENCH_DURATION BENCH_SPIKE_CONNECTIONS BENCH_CONNECTIONS BENCH_FAULTS BENCH_PROXIES; do
	if [[ -n "${!var+set}" ]]; then invocation="$var=$(printf '%q' "${!var}") $invocation"; fi
done
export BENCH_DIR="$bench"
export BENCH_PROXIES="${BENCH_PROXIES:-gateway nginx haproxy caddy floor}"
for proxy in $BENCH_PROXIES; do
	[[ "$proxy" =~ ^(gateway|nginx|haproxy|caddy|floor)$ ]] || die "unknown proxy in BENCH_PROXIES: $proxy"
done
export BENCH_FAULTS="${BENCH_FAULTS-kill freeze rolling consul spike slow tail errors stall}"
for fault in $BENCH_FAULTS; do
	[[ "$fault" =~ ^(kill|freeze|rolling|consul|spike|slow|tail|errors|stall)$ ]] || die "unknown fault in BENCH_FAULTS: $fault"
done
results="${BENCH_RESULTS:-$bench/results}"
export BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-64}"
export BENCH_SPIKE_CONNECTIONS="${BENCH_SPIKE_CONNECTIONS:-4096}"
export BENCH_DURATION="${BENCH_DURATION:-15}"
export BENCH_WARMUP="${BENCH_WARMUP:-3}"
export BENCH_CLEAN_ROUNDS="${BENCH_CLEAN_ROUNDS:-3}"
for var in BENCH_CONNECTIONS BENCH_SPIKE_CONNECTIONS BENCH_DURATION BENCH_WARMUP BENCH_CLEAN_ROUNDS ${BENCH_LONG_DURATION:+BENCH_LONG_DURATION}; do
	[[ "${!var}" =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive integer, not '${!var}'"
done
export BENCH_LONG_DURATION="${BENCH_LONG_DURATION:-$((BENCH_DURATION > 30 ? BENCH_DURATION : 30))}"
export BENCH_SCALING="${BENCH_SCALING-connections instances body}"
for dimension in $BENCH_SCALING; do
	[[ "$dimension" =~ ^(connections|instances|body)$ ]] || die "unknown dimension in BENCH_SCALING: $dimension"
done
export BENCH_SCALING_CONNECTIONS="${BENCH_SCALING_CONNECTIONS:-16 256 1024 4096}"
export BENCH_SCALING_INSTANCES="${BENCH_SCALING_INSTANCES:-3 10 30}"
BENCH_SCALING_BODIES="${BENCH_SCALING_BODIES:-small 16KiB 256KiB}"

# check_points VAR POINTS MIN MAX: POINTS (VAR's, in bytes for the bodies) are distinct integers
# from MIN to MAX, at least one.
check_points() {
	local var="$1" point
	local -A seen=()
	[[ -n "${2// /}" ]] || die "$var is empty"
	for point in $2; do
		if ! [[ "$point" =~ ^[1-9][0-9]{0,8}$ ]] || ((point < $3 || point > $4)); then
			die "$var: '$point' is not an integer from $3 to $4"
		fi
		[[ -z "${seen[$point]:-}" ]] || die "$var: $point twice"
		seen[$point]=1
	done
}
check_points BENCH_SCALING_CONNECTIONS "$BENCH_SCALING_CONNECTIONS" 2 8192
check_points BENCH_SCALING_INSTANCES "$BENCH_SCALING_INSTANCES" 1 30

# body_bytes SIZE: SIZE in bytes: "small" the small body's 13, else a number with an optional KiB
# or MiB; fails on anything else.
body_bytes() {
	local n="${1%[KM]iB}"
	if [[ "$1" == small ]]; then
		echo 13
		return
	fi
	[[ "$n" =~ ^[1-9][0-9]{0,8}$ ]] || return 1
	case "$1" in
	*KiB) echo $((n * 1024)) ;;
	*MiB) echo $((n * 1048576)) ;;
	*) echo "$n" ;;
	esac
}
# measure.sh gets the body sizes in bytes, "small" as it is (post.lua's own body).
bodies="" sizes=""
for size in $BENCH_SCALING_BODIES; do
	bytes="$(body_bytes "$size")" || die "BENCH_SCALING_BODIES: '$size' is not small, nor a size in bytes, KiB or MiB"
	sizes+=" $bytes"
	if [[ "$size" == small ]]; then bodies+=" small"; else bodies+=" $bytes"; fi
done
check_points "BENCH_SCALING_BODIES (in bytes)" "$sizes" 9 1048576
export BENCH_SCALING_BODIES="${bodies# }"
export CHECKPOINT_DISABLE=1
start="$SECONDS"
stamp="$(date -u +%Y-%m-%dT%H%MZ)"

# --- packages (the Debian 12 ones; their services are never used) --------------------------------

declare -A provider=(
	[wrk]=wrk [haproxy]=haproxy [nginx]=nginx [caddy]=caddy [gnuplot]=gnuplot-nox [jq]=jq
	[curl]=curl [ip]=iproute2 [unshare]=util-linux [ps]=procps [perf]=linux-perf
)
missing=()
for cmd in "${!provider[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${provider[$cmd]}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	log "installing ${missing[*]}"
	# Keep the packages' init scripts from starting daemons (nginx on :80 ...) during the install.
	policy=""
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
	fi
	rc=0
	{
		DEBIAN_FRONTEND=noninteractive apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	} </dev/null >&2 || rc=$?
	if [[ -n "$policy" ]]; then rm -f "$policy"; fi
	[[ $rc -eq 0 ]] || die "apt-get install ${missing[*]} failed"
fi

# --- binaries ------------------------------------------------------------------------------------

log "building bin/ (scripts/build.sh) and getting Consul (scripts/agents.sh consul)"
built=""
if ! (cd "$root" && scripts/build.sh >&2); then
	# Someone may be editing the Go code right now: benchmark the binaries bin/ already has.
	[[ -x "$root/bin/gateway" && -x "$root/bin/stringsvc" && -x "$root/bin/graysvc" ]] ||
		die "scripts/build.sh failed and bin/ lacks gateway, stringsvc or graysvc"
	built=", scripts/build.sh FAILED: bin/ as built $(date -u -r "$root/bin/gateway" '+%Y-%m-%d %H:%M UTC')"
	log "WARNING: scripts/build.sh failed; using bin/gateway, bin/stringsvc and bin/graysvc as they are"
fi
consul="$(realpath "$(cd "$root" && scripts/agents.sh consul)")"

run="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-bench.XXXXXX")"
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ $rc -eq 0 && "${BENCH_KEEP:-}" != 1 ]]; then
		rm -rf "$run"
	elif [[ $rc -eq 0 ]]; then
		log "logs and raw output kept in $run (BENCH_KEEP=1)"
	else
		log "failed (exit $rc); logs and raw output kept in $run"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A snapshot of the binaries: bin/ may be rebuilt while the benchmark runs.
mkdir -p "$run/bin"
cp "$root/bin/gateway" "$root/bin/stringsvc" "$root/bin/graysvc" "$run/bin/"
# floor, the bare fasthttp reference proxy, when measured: built from this tree into the snapshot
# (bench/floor is no part of bin/), its version line naming the fasthttp it links.
floor_version=()
if [[ " $BENCH_PROXIES " == *" floor "* ]]; then
	log "building floor (go build ./bench/floor)"
	(cd "$root" && go build -o "$run/bin/floor" ./bench/floor) >&2 || die "go build ./bench/floor failed"
	fasthttp="$(go version -m "$run/bin/floor" | awk '$1 == "dep" && $2 == "github.com/valyala/fasthttp" { print $3 }')"
	floor_version=("floor (bench/floor: bare fasthttp ${fasthttp:-unknown})")
fi
rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- '*.go' go.mod go.sum 2>/dev/null || rev="$rev + uncommitted Go changes"
versions=(
	"gateway, stringsvc and graysvc at $rev ($(go version | awk '{ print $3 }')$built)"
	"$(nginx -v 2>&1 | sed 's#.*: ##; s#/# #')"
	"$(haproxy -v | awk 'NR == 1 { print "HAProxy " $3 }')"
	"Caddy $(caddy version | awk '{ print $1 }')"
	"${floor_version[@]}"
	"$({ wrk -v 2>&1 || true; } | awk 'NR == 1 { print "wrk " $2 }')" # wrk -v exits 1
	"Consul $("$consul" version | awk 'NR == 1 { print $2 }')"
)
BENCH_VERSIONS="$(printf '%s, ' "${versions[@]}")"
export BENCH_VERSIONS="${BENCH_VERSIONS%, }"

# --- measure, in a loopback-only network namespace -----------------------------------------------

log "measuring: $BENCH_CONNECTIONS connections ($BENCH_SPIKE_CONNECTIONS in the spike), ${BENCH_DURATION}s runs (${BENCH_LONG_DURATION}s for rolling/consul) after ${BENCH_WARMUP}s warm-ups; scaling: ${BENCH_SCALING:-none}; run dir $run"
# shellcheck disable=SC2016 # $0 and $@ are expanded by the inner bash.
unshare --net --mount --propagation private --pid --fork --mount-proc --kill-child -- \
	bash -c 'ip link set lo up && exec "$0" "$@"' "$bench/measure.sh" "$run" "$run/results.tsv" "$consul"

# --- report --------------------------------------------------------------------------------------

elapsed=$((SECONDS - start))
export BENCH_DATE="${stamp:0:10} ${stamp:11:2}:${stamp:13:2} UTC"
export BENCH_COMMAND="$invocation"
export BENCH_ELAPSED="$((elapsed / 60)) min $((elapsed % 60)) s"
out="$results/$stamp-$(hostname -s)"
mkdir -p "$results"
cp "$run/results.tsv" "$out.tsv"
"$bench/report.sh" "$out.tsv" "$out"
cp "$out.md" "$results/latest.md"
cp "$out.png" "$results/latest.png"
written="$out.md, $out.tsv, $out.png" copies="$results/latest.md, latest.png"
# The charts of the spike and gray failures and of each scaling curve: a previous run's copy is
# removed unless this run has its own.
for chart in gray connections instances body; do
	rm -f "$results/latest-$chart.png"
	if [[ -f "$out-$chart.png" ]]; then
		cp "$out-$chart.png" "$results/latest-$chart.png"
		written+=", $out-$chart.png" copies+=", latest-$chart.png"
	fi
done
log "done in $BENCH_ELAPSED: $written (copies: $copies)"
cat "$out.md"
