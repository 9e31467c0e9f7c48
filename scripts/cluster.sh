#!/usr/bin/env bash
# cluster.sh - a 3-node Nomad cluster on one machine, configured like the Vagrant cluster, with
# every job of nomad/ deployed on it: three Nomad servers+clients on 127.0.0.1, 127.0.0.2 and
# 127.0.0.3, a 3-server Consul (the consul job, one server per node), stringsvc spread over the
# nodes, a gateway on every node.
#
# Usage: scripts/cluster.sh up           start the nodes, deploy (scripts/deploy.sh), print how to
#                                        use it, and return; the cluster keeps running
#        scripts/cluster.sh down         stop everything `up` started and remove what it left
#        scripts/cluster.sh env          print the exports for the CLIs and scripts/deploy.sh
#                                        (eval "$(scripts/cluster.sh env)")
#        scripts/cluster.sh kill-node N  crash node N (1-3): SIGKILL its Nomad agent and every
#                                        process it runs (its Consul server, stringsvc, gateway)
#
# Needs root. Each node's settings come from scripts/nomad-config.sh node, the template the
# Vagrant VMs are provisioned from; only the addresses and the interface differ. A Nomad client
# fingerprints its address from an interface, so nodes 2 and 3 get one each: bridges lb2 and lb3
# without any port, holding only 127.0.0.2/32 and 127.0.0.3/32 (removed again by `down`). To keep
# it all off the host's network, run it in a loopback-only namespace of its own, e.g.
#   unshare --net --mount --propagation private bash -c 'ip link set lo up; scripts/cluster.sh up; exec bash'
#
# Binaries: Nomad and Consul on PATH, else built once by scripts/agents.sh; stringsvc and the
# gateway from NOMAD_VAR_bin_dir, else built into bin/ by scripts/build.sh. Everything the nodes
# write (data dirs, allocations, temporary files, logs) lives in one run dir under ${TMPDIR:-/tmp},
# named in the state file ${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-cluster.state.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/nomad-lib.sh
source "$root/scripts/nomad-lib.sh"
state="${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-cluster.state"
nodes=(1 2 3)
addrs=(127.0.0.1 127.0.0.2 127.0.0.3)
up_timeout=90

log() { echo "cluster.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# run_dir prints the run dir of the cluster that is up, or fails.
run_dir() {
	local run
	[[ -r "$state" ]] || return 1
	read -r run <"$state" || return 1
	[[ -d "$run" && -f "$run/nomad.path" ]] || return 1
	echo "$run"
}

# agent_pid RUN N: the PID of node N's Nomad agent if it still runs (checked against its command
# line, so that a reused PID is never signalled), else fails.
agent_pid() {
	local pid
	read -r pid <"$1/node$2.pid" 2>/dev/null || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "-config $1/node$2.hcl" || return 1
	echo "$pid"
}

# cluster_env RUN: the exports for node 1 (the Nomad CLI, deploy.sh, the job variables).
cluster_env() {
	"$root/scripts/nomad-config.sh" env "${addrs[0]}" "${addrs[@]}"
	echo "export NOMAD_VAR_bin_dir=$(cat "$1/bin_dir.path")"
	echo "export NOMAD_VAR_consul_binary=$(cat "$1/consul.path")"
	echo "export PATH=$(dirname "$(cat "$1/nomad.path")"):\$PATH"
}

# interface_of ADDR: the interface that holds exactly ADDR, if any.
interface_of() { ip -o -4 addr show | awk -v a="$1" '$4 ~ "^"a"/" { print $2; exit }'; }

# api_get N PATH: GET on node N's Nomad HTTP API.
api_get() { curl -fsS --max-time 2 "http://${addrs[$1 - 1]}:4646$2"; }

# cluster_ready: node 1 sees a leader and three ready clients with raw_exec.
cluster_ready() {
	api_get 1 /v1/status/leader | grep -q ':4647' &&
		[[ "$(api_get 1 '/v1/nodes?resources=false' | grep -o '"Status":"ready"' | wc -l)" -eq 3 ]]
}

# abort_up runs when `up` exits before it is done: stop what it started, keep the logs.
abort_up() {
	local rc=$?
	trap - EXIT
	log "up failed; stopping what it started"
	KEEP_LOGS=1 down
	exit "$rc"
}

up() {
	local run n i addr iface pid nomad consul bin_dir
	[[ "$EUID" -eq 0 ]] || die "run as root (interfaces for 127.0.0.2 and .3, Nomad's cgroups)"
	if run="$(run_dir)"; then die "already up (run dir $run); stop it with: $0 down"; fi
	cd "$root"
	bin_dir="${NOMAD_VAR_bin_dir:-}"
	if [[ -z "$bin_dir" ]]; then
		scripts/build.sh >&2
		bin_dir="$root/bin"
	fi
	consul="$(realpath "$(scripts/agents.sh consul)")"
	nomad="$(realpath "$(scripts/agents.sh nomad)")"

	run="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-cluster.XXXXXX")"
	echo "$run" >"$state"
	echo "$nomad" >"$run/nomad.path"
	echo "$consul" >"$run/consul.path"
	echo "$bin_dir" >"$run/bin_dir.path"
	# From here on a failure stops what was started and keeps the logs.
	trap abort_up EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	absent_cgroups nomad "${nodes[@]/#/gokit-nomad-node}" >"$run/cgroups"
	for n in "${nodes[@]}"; do
		addr="${addrs[$n - 1]}"
		iface="$(interface_of "$addr")"
		if [[ -z "$iface" ]]; then
			iface="lb$n"
			ip link show "$iface" >/dev/null 2>&1 && die "interface $iface exists but does not hold $addr"
			ip link add "$iface" type bridge
			echo "$iface" >>"$run/bridges"
			ip addr add "$addr/32" dev "$iface"
			ip link set "$iface" up
		fi
		mkdir -p "$run/node$n/tmp"
		NOMAD_CGROUP_PARENT="/gokit-nomad-node$n" scripts/nomad-config.sh node "node$n" "$addr" "$iface" \
			"$run/node$n" "${#addrs[@]}" "${addrs[@]}" >"$run/node$n.hcl"
		# Its own session (setsid): the agent outlives this script and no terminal signal reaches it.
		CHECKPOINT_DISABLE=1 TMPDIR="$run/node$n/tmp" setsid "$nomad" agent -config "$run/node$n.hcl" \
			>"$run/node$n.log" 2>&1 &
		echo "$!" >"$run/node$n.pid"
	done
	log "nodes starting (logs: $run/node{1,2,3}.log)"
	for ((i = 0; i < up_timeout * 5; i++)); do
		cluster_ready && break
		for n in "${nodes[@]}"; do
			agent_pid "$run" "$n" >/dev/null || die "node $n's agent exited (see $run/node$n.log)"
		done
		sleep 0.2
	done
	cluster_ready || die "no leader with 3 ready clients after ${up_timeout}s"
	log "3 Nomad servers with a leader, 3 ready clients"

	(
		eval "$(cluster_env "$run")"
		scripts/deploy.sh
	) || die "scripts/deploy.sh failed"
	trap - EXIT

	cat <<-MSG
		Nodes: node1 127.0.0.1, node2 127.0.0.2, node3 127.0.0.3, each with the Nomad API on :4646,
		a Consul server on :8500 and a gateway on :8080 (curl any of them, e.g. http://127.0.0.2:8080).
		Consul UI: http://127.0.0.1:8500/ui/ (any node); Nomad: $(basename "$nomad") node status, after
		  eval "\$($0 env)"
		Crash a node: $0 kill-node 3; stop it all: $0 down
	MSG
}

kill_node() {
	local run n="${1:-}" pid victims
	[[ "$n" =~ ^[123]$ ]] || die "usage: $0 kill-node 1|2|3"
	run="$(run_dir)" || die "no cluster is up"
	pid="$(agent_pid "$run" "$n")" || die "node $n is not running"
	# The agent, its helpers and its tasks: all of them name the node's dir in their environment.
	mapfile -t victims < <(processes_using "$run/node$n")
	kill -KILL "$pid" "${victims[@]}" 2>/dev/null || true
	wait_gone "$pid" "${victims[@]}" || die "node $n: processes still alive after SIGKILL"
	log "node $n (${addrs[$n - 1]}) crashed: its agent and every process it started (${#victims[@]} in all) killed"
}

down() {
	local run n pid live=() addr="" bridge cgroups=()
	run="$(run_dir)" || {
		log "nothing to stop (no cluster run dir in $state)"
		return 0
	}
	for n in "${nodes[@]}"; do
		if pid="$(agent_pid "$run" "$n")"; then
			live+=("$pid")
			addr="${addr:-http://${addrs[$n - 1]}:4646}"
		fi
	done
	log "stopping the jobs and ${#live[@]} live node(s)"
	if [[ ${#live[@]} -gt 0 ]]; then
		stop_nomad "$(cat "$run/nomad.path")" "$addr" "$run" "${live[@]}"
	else
		kill_leftovers "$run" # what dead agents left running, and their mounts
	fi
	mapfile -t cgroups <"$run/cgroups"
	remove_cgroups "${cgroups[@]}"
	if [[ -f "$run/bridges" ]]; then
		while read -r bridge; do ip link del "$bridge" 2>/dev/null || true; done <"$run/bridges"
	fi
	if [[ "${KEEP_LOGS:-0}" -eq 1 ]]; then
		log "logs kept in $run (allocation logs: $run/node*/alloc/*/alloc/logs)"
	else
		rm -rf "$run"
	fi
	rm -f "$state"
	log "down"
}

case "${1:-}" in
up) up ;;
down) down ;;
env)
	run="$(run_dir)" || die "no cluster is up"
	cluster_env "$run"
	;;
kill-node) kill_node "${2:-}" ;;
*)
	sed -n '7,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
