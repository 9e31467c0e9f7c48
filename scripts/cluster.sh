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
# Needs root. The nodes are scripts/nomad-lib.sh's cluster with N=3 (scripts/dev.sh is N=1): each
# node's settings come from scripts/nomad-config.sh node, the template the Vagrant VMs are
# provisioned from; only the addresses and the interface differ. A Nomad client fingerprints its
# address from an interface, so nodes 2 and 3 get one each: bridges lb2 and lb3 without any port,
# holding only 127.0.0.2/32 and 127.0.0.3/32 (removed again by `down`). To keep it all off the
# host's network, run it in a loopback-only namespace of its own, e.g.
#   unshare --net --mount --propagation private bash -c 'ip link set lo up; scripts/cluster.sh up; exec bash'
#
# Binaries: Nomad and Consul on PATH, else built once by scripts/agents.sh; stringsvc and the
# gateway from BIN_DIR, else built into bin/ by scripts/build.sh, downloaded by the nodes from the
# local release store (scripts/artifacts.sh, served on 127.0.0.1:8070 while the cluster is up). Everything the nodes
# write (data dirs, allocations, temporary files, logs) lives in one run dir under ${TMPDIR:-/tmp},
# named in the state file ${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-cluster.state.
set -euo pipefail

# shellcheck source=scripts/nomad-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/nomad-lib.sh" # sets root, the repository
cluster_init cluster 3 gokit-nomad-node
# The jobs run with raw_exec here (NOMAD_VAR_driver overrides it): the crash of a node that
# kill-node simulates is tested on raw_exec only (TestThreeNodeCluster). kill-node finds exec tasks
# too (by their NOMAD_ALLOC_ID), but a crash under exec is untested. dev.sh and the Vagrant VMs use
# exec.
export NOMAD_VAR_driver="${NOMAD_VAR_driver:-raw_exec}"

# abort_up runs when `up` exits before it is done: stop what it started, keep the logs.
abort_up() {
	local rc=$?
	trap - EXIT
	log "up failed; stopping what it started"
	cluster_down 1
	exit "$rc"
}

up() {
	[[ "$EUID" -eq 0 ]] || die "run as root (interfaces for 127.0.0.2 and .3, Nomad's cgroups)"
	if run="$(run_dir)"; then die "already up (run dir $run); stop it with: $0 down"; fi
	trap abort_up EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cluster_up
	trap - EXIT
	cat <<-MSG
		Nodes: node1 127.0.0.1, node2 127.0.0.2, node3 127.0.0.3, each with the Nomad API on :4646,
		a Consul server on :8500 and a gateway on :8080 (curl any of them, e.g. http://127.0.0.2:8080).
		Consul UI: http://127.0.0.1:8500/ui/ (any node); Nomad: $(basename "$(cat "$run/nomad.path")") node status, after
		  eval "\$($0 env)"
		Crash a node: $0 kill-node 3; stop it all: $0 down
	MSG
}

down() {
	if ! run_dir >/dev/null; then
		log "nothing to stop (no cluster run dir in $cl_state)"
		return 0
	fi
	cluster_down
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
