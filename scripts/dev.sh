#!/usr/bin/env bash
# dev.sh - run the whole system locally: a Consul dev agent, 3 stringsvc instances and the gateway.
#
# Usage: scripts/dev.sh          start everything, print how to use it, run until Ctrl-C / SIGTERM
#        scripts/dev.sh down     stop a dev.sh started earlier (from another terminal)
#
# Everything binds 127.0.0.1 only. Logs go to a run dir under ${TMPDIR:-/tmp}, removed on a clean
# stop (kept, and printed, if something failed). On stop: the stringsvc instances get SIGTERM (they
# deregister and drain) and are waited for, then the gateway is stopped, then Consul.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-dev.pid"
consul_addr="127.0.0.1:8500"
gateway_addr="127.0.0.1:8080"

# What up() started, for cleanup().
run="" consul_pid="" gateway_pid="" svc_pids=() keep_logs=0

# running_pid prints the PID of a running dev.sh from the state file, or fails.
running_pid() {
	local pid
	[[ -r "$state" ]] || return 1
	read -r pid _ <"$state" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	# The PID must still be a dev.sh: never signal a PID that was reused by something else.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'dev\.sh' || return 1
	echo "$pid"
}

# stop_pids SIGNAL SECONDS PID...: signal our children, wait for them (bounded), then SIGKILL.
stop_pids() {
	local sig="$1" secs="$2" pid i
	shift 2
	for pid in "$@"; do kill "-$sig" "$pid" 2>/dev/null || true; done
	for pid in "$@"; do
		for ((i = 0; i < secs * 5; i++)); do
			not_alive "$pid" && break
			sleep 0.2
		done
		not_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
not_alive() { ! kill -0 "$1" 2>/dev/null; }

# cleanup runs on exit: stop what up() started, in order, and remove the run dir and state file.
cleanup() {
	trap - EXIT INT TERM
	echo "dev.sh: stopping" >&2
	if [[ ${#svc_pids[@]} -gt 0 ]]; then stop_pids TERM 20 "${svc_pids[@]}"; fi
	if [[ -n "$gateway_pid" ]]; then stop_pids TERM 15 "$gateway_pid"; fi
	if [[ -n "$consul_pid" ]]; then stop_pids INT 10 "$consul_pid"; fi
	if [[ "$keep_logs" -eq 1 ]]; then
		echo "dev.sh: logs kept in $run" >&2
	else
		rm -rf "$run"
	fi
	if [[ "$(running_pid || true)" == "$$" ]]; then rm -f "$state"; fi
}

# fail MESSAGE: keep the logs and exit 1 (cleanup stops everything).
fail() {
	echo "dev.sh: $1; logs in $run" >&2
	keep_logs=1
	exit 1
}

# wait_for PID SECONDS WHAT CMD...: run CMD every 0.2 s until it succeeds; fail if PID dies or
# SECONDS pass first.
wait_for() {
	local pid="$1" secs="$2" what="$3" i
	shift 3
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		not_alive "$pid" && fail "$what exited"
		sleep 0.2
	done
	fail "$what not ready after $secs s"
}

leader_elected() { curl -fsS "http://$consul_addr/v1/status/leader" | grep -q '[0-9]'; }
gateway_answers() { curl -fsS -d '{"s":"foo"}' "http://$gateway_addr/stringsvc/uppercase"; }

up() {
	local pid consul i
	if pid="$(running_pid)"; then
		echo "dev.sh: already running (PID $pid); stop it with: $0 down" >&2
		exit 1
	fi
	cd "$root"
	scripts/build.sh >&2
	consul="$(scripts/agents.sh consul)"

	run="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-dev.XXXXXX")"
	echo "$$ $run" >"$state"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# Children get their own session (setsid) so that Ctrl-C reaches only dev.sh, which then stops
	# them in order. In a non-interactive bash, setsid execs in place: $! is the program's own PID.
	export CONSUL_HTTP_ADDR="$consul_addr"
	CHECKPOINT_DISABLE=1 setsid "$consul" agent -dev -bind 127.0.0.1 -client 127.0.0.1 \
		-hcl 'disable_update_check = true' >"$run/consul.log" 2>&1 &
	consul_pid=$!
	wait_for "$consul_pid" 30 "Consul (no leader)" leader_elected

	for i in 1 2 3; do
		env -u LOG_JSON setsid bin/stringsvc -listen 127.0.0.1:0 >"$run/stringsvc-$i.log" 2>&1 &
		svc_pids+=("$!")
	done
	setsid bin/gateway -listen "$gateway_addr" >"$run/gateway.log" 2>&1 &
	gateway_pid=$!
	wait_for "$gateway_pid" 30 "the gateway (POST /stringsvc/uppercase)" gateway_answers

	cat <<-MSG
		Running (logs in $run):
		  curl -sS -d '{"s":"foo"}' $gateway_addr/stringsvc/uppercase
		  curl -sS -d '{"s":"foo"}' $gateway_addr/stringsvc/count
		Consul UI: http://$consul_addr/ui/
		Stop with Ctrl-C, or: $0 down
	MSG

	# Run until a signal arrives or one of the processes exits on its own.
	wait -n "$consul_pid" "$gateway_pid" "${svc_pids[@]}" || true
	fail "a process exited on its own"
}

down() {
	local pid i
	pid="$(running_pid)" || {
		echo "dev.sh: nothing running (no live dev.sh PID in $state)" >&2
		exit 1
	}
	echo "dev.sh: stopping dev.sh (PID $pid)" >&2
	kill -TERM "$pid"
	for ((i = 0; i < 300; i++)); do
		not_alive "$pid" && return 0
		sleep 0.1
	done
	echo "dev.sh: PID $pid still running after 30 s" >&2
	exit 1
}

case "${1:-up}" in
up) up ;;
down) down ;;
*)
	echo "usage: $0 [down]" >&2
	exit 2
	;;
esac
