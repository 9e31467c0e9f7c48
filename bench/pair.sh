#!/usr/bin/env bash
# pair.sh - compare the CPU per request of two builds of the gateway, loaded at the same time.
#
# On a shared machine whose speed drifts by a third within minutes, runs one after another
# (A B A B) need many repetitions to show a 5% change. Here both gateways serve their own wrk at
# once, in front of the same three stringsvc, through each round: whatever the machine does, it
# does to both, and each round gives a ratio.
#
# Usage (as root): bench/pair.sh REV_A REV_B
#   REV_A, REV_B       git revisions of this repository (e.g. HEAD~1 HEAD), or "." for the working
#                      tree; either may be "floor": bench/floor of the working tree (the bare
#                      fasthttp proxy, without flags), for the gateway's own cost above Go and
#                      fasthttp; REV_A may be "nginx" (bench/config/nginx.conf.tmpl, as bench/run.sh
#                      runs it): "nginx floor" and "nginx HEAD" measure the issue's milestones loaded
#                      at once
#   PAIR_ROUNDS        measured rounds (default 6), each after a 2 s warm-up of both
#   PAIR_DURATION      seconds of each measured round (default 5)
#   PAIR_CONNECTIONS   wrk connections to each gateway (default 32: 64 in all, as bench/run.sh)
#   PAIR_FLAGS         flags both gateways start with besides -listen
#   PAIR_FLAGS_B       flags B starts with after those: with REV_A = REV_B, what a setting costs
#                      (e.g. PAIR_FLAGS_B="-hedge=false -max-inflight=0": hedging and admission off)
#
# Builds each gateway from a temporary git worktree (or the working tree) and stringsvc from the
# working tree, gets Consul (scripts/agents.sh consul), then runs bench/pair-inner.sh in a
# loopback-only network namespace (own PID namespace: whatever it starts dies with it). Prints a
# line per round (CPU µs per request and req/s of each, B over A) and the median ratio.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

[[ "$EUID" -eq 0 ]] || die "run as root (unshare)"
(($# == 2)) || die "usage: bench/pair.sh REV_A REV_B"
[[ "$2" != nginx ]] || die "nginx can be A only"
export PAIR_ROUNDS="${PAIR_ROUNDS:-6}" PAIR_DURATION="${PAIR_DURATION:-5}"
export PAIR_CONNECTIONS="${PAIR_CONNECTIONS:-32}" PAIR_FLAGS="${PAIR_FLAGS:-}" PAIR_FLAGS_B="${PAIR_FLAGS_B:-}"
for var in PAIR_ROUNDS PAIR_DURATION PAIR_CONNECTIONS; do
	[[ "${!var}" =~ ^[1-9][0-9]{0,3}$ ]] || die "$var must be a positive integer, not '${!var}'"
done
tools=(wrk jq curl bc)
[[ "$1" != nginx ]] || tools+=(nginx)
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >&2
done
consul="$("$root/scripts/agents.sh" consul)"

run="$(mktemp -d)"
trees=()
cleanup() {
	local t
	for t in "${trees[@]}"; do git -C "$root" worktree remove --force "$t" 2>/dev/null || true; done
	rm -rf "$run"
}
trap cleanup EXIT

# build REV NAME: the gateway of REV (or floor) into $run/NAME; for nginx, only $run/NAME.kind.
build() {
	local src="$root"
	if [[ "$1" == nginx ]]; then
		echo nginx >"$run/$2.kind"
		return
	fi
	if [[ "$1" == floor ]]; then
		log "building floor (go build ./bench/floor)"
		(cd "$root" && go build -o "$run/$2" ./bench/floor) >&2 || die "go build ./bench/floor failed"
		echo floor >"$run/$2.kind"
		return
	fi
	if [[ "$1" != . ]]; then
		src="$run/tree-$2"
		git -C "$root" worktree add --quiet --detach "$src" "$1" || die "no revision $1"
		trees+=("$src")
	fi
	log "building the gateway of $1 ($(git -C "$src" rev-parse --short HEAD)$([[ "$1" == . ]] && echo ' and the working tree'))"
	(cd "$src" && go build -o "$run/$2" ./gateway/cmd/gateway) >&2 || die "go build failed at $1"
}
build "$1" gateway-a
build "$2" gateway-b
(cd "$root" && go build -o "$run/stringsvc" ./stringsvc/cmd/stringsvc) >&2 || die "go build ./stringsvc/cmd/stringsvc failed"

log "A = $1, B = $2: $PAIR_ROUNDS rounds of ${PAIR_DURATION}s, $PAIR_CONNECTIONS connections each${PAIR_FLAGS:+, flags $PAIR_FLAGS}${PAIR_FLAGS_B:+, B with $PAIR_FLAGS_B}"
# shellcheck disable=SC2016 # $0 and $@ are expanded by the inner bash.
unshare --net --mount --propagation private --pid --fork --mount-proc --kill-child -- \
	bash -c 'ip link set lo up && exec "$0" "$@"' "$bench/pair-inner.sh" "$run" "$consul"
