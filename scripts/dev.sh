#!/usr/bin/env bash
# dev.sh - run the whole system locally the Nomad way: a Nomad dev agent on 127.0.0.1, and on it
# every job of nomad/ (Consul, three stringsvc allocations, the gateway) via scripts/deploy.sh.
#
# Usage: scripts/dev.sh          start everything, print how to use it, run until Ctrl-C / SIGTERM
#        scripts/dev.sh down     stop a dev.sh started earlier (from another terminal)
#
# Nomad and Consul are the ones on PATH, else built once by scripts/agents.sh (Nomad v1.6.1,
# Consul v1.13.9). The agent binds 127.0.0.1 only, with the update check and the cloud
# fingerprinters off and raw_exec on (scripts/nomad-config.sh dev). Everything it writes (state,
# allocation dirs, temporary files, logs) lives in one run dir under ${TMPDIR:-/tmp}. On stop: the
# jobs are stopped (stringsvc deregisters and drains), then the agent; leftover helper processes,
# mounts and the cgroups the agent created are removed, and so is the run dir (kept, and printed,
# if something failed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/nomad-lib.sh
source "$root/scripts/nomad-lib.sh"
state="${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-dev.pid"
cgroup_parent="gokit-nomad-dev"
export NOMAD_ADDR="http://127.0.0.1:4646"

# What up() started, for cleanup().
run="" nomad="" agent_pid="" new_cgroups=() keep_logs=0

# running_pid prints the PID of a running dev.sh from the state file, or fails.
running_pid() {
	local pid
	[[ -r "$state" ]] || return 1
	read -r pid _ <"$state" || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	# The PID must still be a dev.sh: never signal a PID that was reused by something else.
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'dev\.sh' || return 1
	echo "$pid"
}

# stop_agent: stop the jobs and the agent, then remove what it left: processes, mounts, cgroups.
stop_agent() {
	stop_nomad "$nomad" "$NOMAD_ADDR" "$run" "$agent_pid"
	remove_cgroups "${new_cgroups[@]}"
}

# cleanup runs on exit: stop what up() started and remove the run dir and state file.
cleanup() {
	trap - EXIT INT TERM
	echo "dev.sh: stopping" >&2
	if [[ -n "$agent_pid" ]]; then stop_agent; fi
	if [[ -n "$run" ]]; then
		if [[ "$keep_logs" -eq 1 ]]; then
			echo "dev.sh: logs kept in $run (allocation logs: $run/nomad/alloc/*/alloc/logs)" >&2
		else
			rm -rf "$run"
		fi
	fi
	if [[ "$(running_pid || true)" == "$$" ]]; then rm -f "$state"; fi
}

# fail MESSAGE: keep the logs and exit 1 (cleanup stops everything).
fail() {
	echo "dev.sh: $1; logs in $run" >&2
	keep_logs=1
	exit 1
}

node_ready() { curl -fsS "$NOMAD_ADDR/v1/nodes" 2>/dev/null | grep -q '"Status":"ready"'; }

up() {
	local pid consul i
	if pid="$(running_pid)"; then
		echo "dev.sh: already running (PID $pid); stop it with: $0 down" >&2
		exit 1
	fi
	cd "$root"
	scripts/build.sh >&2
	consul="$(realpath "$(scripts/agents.sh consul)")"
	nomad="$(realpath "$(scripts/agents.sh nomad)")"

	run="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-dev.XXXXXX")"
	mkdir -p "$run/tmp"
	echo "$$ $run" >"$state"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	mapfile -t new_cgroups < <(absent_cgroups "$cgroup_parent" nomad)
	NOMAD_CGROUP_PARENT="/$cgroup_parent" scripts/nomad-config.sh dev "$run/nomad" >"$run/nomad.hcl"
	# The agent gets its own session (setsid) so that Ctrl-C reaches only dev.sh, which then stops
	# it in order. In a non-interactive bash, setsid execs in place: $! is the agent's own PID.
	CHECKPOINT_DISABLE=1 TMPDIR="$run/tmp" setsid "$nomad" agent -dev -config "$run/nomad.hcl" \
		-log-level INFO >"$run/nomad.log" 2>&1 &
	agent_pid=$!
	for ((i = 0; i < 150; i++)); do
		node_ready && break
		not_alive "$agent_pid" && fail "the Nomad agent exited"
		sleep 0.2
	done
	node_ready || fail "the Nomad node is not ready after 30 s"

	PATH="$(dirname "$nomad"):$PATH" NOMAD_VAR_bin_dir="$root/bin" NOMAD_VAR_consul_binary="$consul" \
		scripts/deploy.sh || fail "scripts/deploy.sh failed"

	cat <<-MSG
		Nomad CLI: $nomad (e.g. $(basename "$nomad") job status stringsvc; NOMAD_ADDR=$NOMAD_ADDR)
		Agent log: $run/nomad.log; a task's log: nomad alloc logs <alloc-id>
		Stop with Ctrl-C, or: $0 down
	MSG

	# Run until a signal arrives or the agent exits on its own.
	wait "$agent_pid" || true
	fail "the Nomad agent exited on its own"
}

down() {
	local pid i
	pid="$(running_pid)" || {
		echo "dev.sh: nothing running (no live dev.sh PID in $state)" >&2
		exit 1
	}
	echo "dev.sh: stopping dev.sh (PID $pid)" >&2
	kill -TERM "$pid"
	for ((i = 0; i < 900; i++)); do
		not_alive "$pid" && return 0
		sleep 0.1
	done
	echo "dev.sh: PID $pid still running after 90 s" >&2
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
