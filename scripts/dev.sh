#!/usr/bin/env bash
# dev.sh - run the whole system locally the Nomad way: a Nomad agent (server and client) on
# 127.0.0.1, and on it every job of nomad/ (Consul, three stringsvc allocations, the gateway on
# :8080, Prometheus on :9090) via scripts/deploy.sh, which prints where each answers.
#
# Usage: scripts/dev.sh          start everything, print how to use it, run until Ctrl-C / SIGTERM
#        scripts/dev.sh down     stop a dev.sh started earlier (from another terminal)
#
# A cluster of one: scripts/nomad-lib.sh's cluster with N=1 (scripts/cluster.sh is N=3), node1
# configured by scripts/nomad-config.sh node. Nomad and Consul are the ones on PATH, else built
# once by scripts/agents.sh (Nomad v1.6.1, Consul v1.13.9); stringsvc and the gateway from BIN_DIR,
# else built into bin/ by scripts/build.sh, then published to the local release store and served
# to the node on 127.0.0.1:8070 (scripts/artifacts.sh): the jobs download them as checksummed
# artifacts and run them with the exec driver (as root), or with raw_exec when dev.sh is not root
# (it says so). The agent binds 127.0.0.1 only, with the update check and the cloud fingerprinters
# off. It runs in the caller's network
# namespace (curl it from any shell); for isolation start it in a loopback-only one, e.g. as root:
#   unshare --net --mount --propagation private bash -c 'ip link set lo up; exec scripts/dev.sh'
# Everything it writes (state, allocation dirs, temporary files, logs) lives in one run dir under
# ${TMPDIR:-/tmp}, named in ${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-dev.state. On stop: the jobs are
# stopped (stringsvc deregisters and drains), then the agent; leftover helper processes, mounts and
# the cgroups the agent created are removed, and so is the run dir (kept, and printed, if something
# failed).
set -euo pipefail

# shellcheck source=scripts/nomad-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/nomad-lib.sh" # sets root, the repository
cluster_init dev 1 gokit-nomad-dev

# running_pid RUN: the PID of the dev.sh that started RUN, if it still runs.
running_pid() { live_pid "$1/owner.pid" dev.sh; }

# cleanup runs on exit: stop what up() started and remove the run dir and state file; keep the
# logs if it exits on a failure rather than a signal.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	cluster_down "$((rc != 0 && rc != 130 && rc != 143))"
}

up() {
	local run pid
	if run="$(run_dir)"; then
		pid="$(running_pid "$run")" || die "a dev.sh that is gone left $run; clean it up with: $0 down"
		die "already running (PID $pid); stop it with: $0 down"
	fi
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cluster_up
	cat <<-MSG
		Nomad CLI: $(cat "$run/nomad.path") (e.g. nomad job status stringsvc; NOMAD_ADDR=http://127.0.0.1:4646)
		Agent log: $run/node1.log; a task's log: nomad alloc logs <alloc-id>
		Stop with Ctrl-C, or: $0 down
	MSG

	# Run until a signal arrives or the agent exits on its own.
	wait "$(cat "$run/node1.pid")" || true
	die "the Nomad agent exited on its own"
}

down() {
	local run pid
	run="$(run_dir)" || die "nothing running (no dev.sh run dir in $cl_state)"
	if ! pid="$(running_pid "$run")"; then
		log "the dev.sh that started $run is gone; stopping what it left"
		cluster_down
		return 0
	fi
	log "stopping dev.sh (PID $pid)"
	kill -TERM "$pid"
	poll 90 none_alive "$pid" || die "PID $pid still running after 90 s"
}

case "${1:-up}" in
up) up ;;
down) down ;;
*)
	echo "usage: $0 [down]" >&2
	exit 2
	;;
esac
