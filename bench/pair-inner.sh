#!/usr/bin/env bash
# pair-inner.sh - bench/pair.sh's measurement, inside its loopback-only namespace: a Consul dev
# agent, three stringsvc (ports 9101-9103), gateway A on 8085 and B on 8086, then PAIR_ROUNDS
# rounds in which a wrk per gateway loads both at once.
#
# Usage: pair-inner.sh RUN_DIR CONSUL_BIN   (RUN_DIR holds gateway-a and gateway-b, each a gateway
# or, with a file gateway-X.kind saying so, floor or nginx (no binary); and stringsvc;
# PAIR_ROUNDS, PAIR_DURATION, PAIR_CONNECTIONS, PAIR_FLAGS and PAIR_FLAGS_B come from pair.sh)
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"
export BENCH_DIR="$bench"
run="$1" consul_bin="$2"
body='{"s":"hello"}'

CHECKPOINT_DISABLE=1 "$consul_bin" agent -dev -bind 127.0.0.1 -client 127.0.0.1 \
	-hcl 'disable_update_check = true' >"$run/consul.log" 2>&1 &
leader() { curl -fsS --max-time 1 127.0.0.1:8500/v1/status/leader | grep -q 127.0.0.1; }
wait_until 30 "Consul leader" leader || die "Consul did not start (see $run/consul.log)"
for port in 9101 9102 9103; do
	CONSUL_HTTP_ADDR=127.0.0.1:8500 LOG_JSON=true LOG_LEVEL=warn \
		"$run/stringsvc" -listen "127.0.0.1:$port" >"$run/stringsvc-$port.log" 2>&1 &
done
passing() { [[ "$(curl -fsS --max-time 2 '127.0.0.1:8500/v1/health/service/stringsvc?passing' | jq length)" == 3 ]]; }
wait_until 30 "3 stringsvc passing in Consul" passing || die "stringsvc not passing"

declare -A pid=() port=([a]=8085 [b]=8086)
for name in a b; do
	extra=""
	[[ "$name" == a ]] || extra="$PAIR_FLAGS_B"
	kind="gateway"
	[[ ! -f "$run/gateway-$name.kind" ]] || kind="$(<"$run/gateway-$name.kind")"
	case "$kind" in
	floor) # as bench/run.sh starts it
		GOMAXPROCS=2 "$run/gateway-$name" -listen "127.0.0.1:${port[$name]}" \
			-backends 127.0.0.1:9101,127.0.0.1:9102,127.0.0.1:9103 >"$run/gateway-$name.log" 2>&1 &
		;;
	nginx) # bench/run.sh's configuration, rendered for this port and the three stringsvc
		mkdir -p "$run/nginx"
		awk -v run="$run/nginx" -v port="${port[$name]}" '
			{ gsub(/@RUN@/, run); gsub(/@PORT@/, port) }
			!/@SERVER@/ { print; next }
			{ for (i = 1; i <= 3; i++) { line = $0; gsub(/@SERVER@/, "127.0.0.1:" (9100 + i), line); print line } }' \
			"$bench/config/nginx.conf.tmpl" >"$run/nginx/nginx.conf"
		nginx -e "$run/nginx/error.log" -c "$run/nginx/nginx.conf" >"$run/gateway-$name.log" 2>&1 &
		;;
	*)
		# shellcheck disable=SC2086 # PAIR_FLAGS, PAIR_FLAGS_B: several flags each
		GOMAXPROCS=2 GOMEMLIMIT=230MiB CONSUL_HTTP_ADDR=127.0.0.1:8500 LOG_LEVEL=warn \
			"$run/gateway-$name" -listen "127.0.0.1:${port[$name]}" $PAIR_FLAGS $extra >"$run/gateway-$name.log" 2>&1 &
		;;
	esac
	pid[$name]=$!
done
answers() { [[ "$(curl -fsS --max-time 2 -H 'Content-Type: application/json' -d "$body" "$1")" == '{"v":"HELLO"}' ]]; }
for name in a b; do
	wait_until 30 "$name on :${port[$name]} answering" answers "127.0.0.1:${port[$name]}/stringsvc/uppercase" ||
		die "$name on :${port[$name]} does not answer"
done

# load SECONDS: both gateways at once, wrk output in $run/wrk-a and $run/wrk-b.
load() {
	local name w
	local -a wrks=()
	for name in a b; do
		timeout --kill-after=5 "$(($1 + 30))" wrk -t 1 -c "$PAIR_CONNECTIONS" -d "${1}s" --timeout 10s \
			-s "$bench/post.lua" "http://127.0.0.1:${port[$name]}/stringsvc/uppercase" >"$run/wrk-$name" 2>&1 &
		wrks+=("$!")
	done
	for w in "${wrks[@]}"; do wait "$w" || die "wrk failed (see $run/wrk-a, $run/wrk-b)"; done
}

ticks="$(getconf CLK_TCK)"
ratios=()
for ((round = 1; round <= PAIR_ROUNDS; round++)); do
	load 2
	read -r a0 _ <<<"$(cpu_ticks "${pid[a]}")"
	read -r b0 _ <<<"$(cpu_ticks "${pid[b]}")"
	load "$PAIR_DURATION"
	read -r a1 _ <<<"$(cpu_ticks "${pid[a]}")"
	read -r b1 _ <<<"$(cpu_ticks "${pid[b]}")"
	parse_wrk "$run/wrk-a"
	ra="${W[requests]}" fa=$((W[connect] + W[read] + W[write] + W[status] + W[timeout]))
	parse_wrk "$run/wrk-b"
	rb="${W[requests]}" fb=$((W[connect] + W[read] + W[write] + W[status] + W[timeout]))
	line="$(awk -v a="$((a1 - a0))" -v b="$((b1 - b0))" -v ra="$ra" -v rb="$rb" -v t="$ticks" -v d="$PAIR_DURATION" 'BEGIN {
		ua = a / t * 1e6 / ra; ub = b / t * 1e6 / rb
		printf "%.1f %.0f %.1f %.0f %.3f", ua, ra / d, ub, rb / d, ub / ua }')"
	read -r ua rpsa ub rpsb ratio <<<"$line"
	ratios+=("$ratio")
	printf 'round %d: A %s µs/req %s req/s (%d failed) | B %s µs/req %s req/s (%d failed) | B/A %s\n' \
		"$round" "$ua" "$rpsa" "$fa" "$ub" "$rpsb" "$fb" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1; if ($1 < 1) cheaper++ }
	END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
		printf "B/A CPU per request: median %.3f over %d rounds; B cheaper in %d\n", m, NR, cheaper }'
