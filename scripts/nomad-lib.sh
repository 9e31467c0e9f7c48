# shellcheck shell=bash
# nomad-lib.sh - the one implementation behind scripts/dev.sh and scripts/cluster.sh: a cluster of
# N Nomad nodes on this machine (dev.sh: N=1, cluster.sh: N=3), node i a server and client on
# 127.0.0.i configured by scripts/nomad-config.sh node, every job of nomad/ deployed on it; and
# stopping it all and removing what the agents left. Sourced, not run.
#
# Everything a cluster writes lives in one run dir under ${TMPDIR:-/tmp}, named by the state file
# ${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-NAME.state. Cleanup acts only on what the run dir names:
# the agents' PIDs, the processes whose environment names the run dir, the bridges it added and
# the cgroups that were absent before the agents started.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The local release store's server, one for all the nodes of a cluster on this machine.
artifact_addr="http://127.0.0.1:8070"

log() { echo "${0##*/}: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# poll TIMEOUT CMD...: run CMD every 0.2 s until it succeeds, for at most TIMEOUT seconds.
poll() {
	local deadline=$((SECONDS + $1)) tries=$((5 * $1 + 5)) i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
	return 1
}

# --- Processes, mounts and cgroups ---------------------------------------------------------------

# alive PID: the process exists and is not a zombie. An orphan's zombie stays until its new parent
# reaps it, and in a PID namespace that parent may be a program that never does (a test binary).
alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z ]]
}

# none_alive PID...: none of the processes runs.
none_alive() {
	local pid
	for pid in "$@"; do
		! alive "$pid" || return 1
	done
}

# wait_gone PID...: wait (at most 10 s) until none of the processes runs any more.
wait_gone() { poll 10 none_alive "$@"; }

# processes_using DIR: print the live processes whose environment names DIR, or the ID of an
# allocation whose dir is below DIR (DIR/alloc/* of a node, DIR/node*/alloc/* of a run). An agent
# started with TMPDIR below DIR hands that on to its helpers, and its raw_exec tasks get their
# allocation dirs below DIR; an exec task carries neither (chrooted, with the task's own paths)
# but has its NOMAD_ALLOC_ID. This finds all of them even after the agent died and its children
# were reparented (runc's double fork leaves an exec task to PID 1 from the start).
processes_using() {
	local pid dir patterns=()
	[[ "$1" == /?*/?* ]] || return 1 # never "/" or a top-level dir: that would match everything
	patterns=(-e "$1/")
	for dir in "$1"/alloc/*/ "$1"/node*/alloc/*/; do
		[[ -d "$dir" ]] && patterns+=(-e "NOMAD_ALLOC_ID=$(basename "$dir")")
	done
	for pid in $(ps -eo pid=); do
		alive "$pid" || continue
		if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qF "${patterns[@]}"; then echo "$pid"; fi
	done
}

# tasks_ended NOMAD_BIN RUN_DIR AGENT_PID...: no task of the agents of RUN_DIR runs any more (only
# Nomad's own helpers may: the nomad binary re-executed as executor or logmon), or no agent is left
# to stop them.
tasks_ended() {
	local pid
	none_alive "${@:3}" && return 0
	for pid in $(processes_using "$2"); do
		[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$1" ]] || return 1
	done
}

# absent_cgroups NAME...: print the cgroup dirs with these names (in every hierarchy) that do not
# exist yet, for remove_cgroups afterwards. Nomad uses the client's cgroup_parent and, with cgroup
# v1, "nomad" in the freezer hierarchy.
absent_cgroups() {
	local hierarchy name
	for hierarchy in /sys/fs/cgroup /sys/fs/cgroup/*; do
		[[ -e "$hierarchy/cgroup.procs" ]] || continue
		for name in "$@"; do
			[[ -e "$hierarchy/$name" ]] || echo "$hierarchy/$name"
		done
	done
}

# remove_cgroups DIR...: remove these cgroup dirs, children first.
remove_cgroups() {
	local dir
	for dir in "$@"; do
		# A cgroup still in use (another Nomad on the machine shares /nomad) stays: || true, or
		# set -e would end the clean-up here.
		if [[ -d "$dir" ]]; then find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
	done
	return 0
}

# unmount_under DIR: detach every mount below DIR (Nomad mounts the tasks' secrets dirs when run as
# root), deepest first.
unmount_under() {
	local mount
	while read -r mount; do
		umount -l "$mount" 2>/dev/null || true
	done < <(awk -v dir="$1/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# has_leader NOMAD_ADDR: the Nomad servers there have elected a leader.
has_leader() {
	local leader
	leader="$(curl -fsS --max-time 2 "$1/v1/status/leader" 2>/dev/null)" && [[ "$leader" == *:* ]]
}

# job_stopped NOMAD_BIN NOMAD_ADDR JOB: the servers took the order to stop JOB, or have no such job.
job_stopped() {
	NOMAD_ADDR="$2" timeout 10 "$1" job stop -detach "$3" >/dev/null 2>&1 ||
		[[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$2/v1/job/$3")" == 404 ]]
}

# stop_jobs NOMAD_BIN NOMAD_ADDR PATIENCE: tell the servers to stop the jobs of scripts/deploy.sh in
# reverse order (stringsvc deregisters and drains while Consul still runs), retrying each for up to
# PATIENCE seconds: after the crash of the leader's node, job stop fails until there is a new one.
stop_jobs() {
	local job patience="$3"
	for job in prometheus gateway stringsvc consul; do
		poll "$patience" job_stopped "$1" "$2" "$job" || patience=0 # no leader: try the others once
	done
}

# stop_nomad NOMAD_BIN NOMAD_ADDR RUN_DIR AGENT_PID...: stop the jobs, wait (at most 45 s) for their
# tasks to end, stop the agents (SIGINT, then SIGKILL after 30 s), then kill_leftovers.
stop_nomad() {
	local nomad_bin="$1" addr="$2" run="$3" pid
	shift 3
	stop_jobs "$nomad_bin" "$addr" 20
	# Seconds after a node's crash a job's evaluations can stay pending for a minute (one was likely
	# taken by the dead server): then its tasks outlast this wait and kill_leftovers ends them.
	poll 45 tasks_ended "$nomad_bin" "$run" "$@" || log "tasks still running 45 s after job stop: killing them"
	kill -INT "$@" 2>/dev/null || true
	poll 30 none_alive "$@" || log "agents still running 30 s after SIGINT: SIGKILL"
	for pid in "$@"; do
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
		wait "$pid" 2>/dev/null || true # reaps the agents that are this shell's children
	done
	kill_leftovers "$run"
}

# kill_leftovers RUN_DIR: SIGKILL whatever the agents of RUN_DIR started and is still running —
# Nomad's helpers, which outlive an agent by design, and the tasks of an agent that died — and
# detach the mounts below RUN_DIR.
kill_leftovers() {
	local left=()
	mapfile -t left < <(processes_using "$1")
	if [[ ${#left[@]} -gt 0 ]]; then
		kill -KILL "${left[@]}" 2>/dev/null || true
		wait_gone "${left[@]}" || log "still running after SIGKILL: ${left[*]}"
	fi
	unmount_under "$1"
}

# --- A cluster of N nodes ------------------------------------------------------------------------

# cluster_init NAME N CGROUP_PREFIX: the cluster this script manages: N nodes, node i on
# 127.0.0.i with its tasks in the cgroup /CGROUP_PREFIXi, its state file named after NAME.
cluster_init() {
	local n
	cl_name="$1" cl_cgroup="$3" cl_nodes=() cl_addrs=()
	cl_state="${XDG_RUNTIME_DIR:-/tmp}/gokit-nomad-$1.state"
	for ((n = 1; n <= $2; n++)); do
		cl_nodes+=("$n")
		cl_addrs+=("127.0.0.$n")
	done
}

# run_dir prints the run dir of the cluster that is up, or fails.
run_dir() {
	local run
	[[ -r "$cl_state" ]] || return 1
	read -r run <"$cl_state" || return 1
	[[ -d "$run" && -f "$run/nomad.path" ]] || return 1
	echo "$run"
}

# live_pid FILE TEXT: the PID written in FILE if that process still runs and its command line
# holds TEXT (so that a PID reused by something else is never signalled), else fails.
live_pid() {
	local pid
	read -r pid <"$1" 2>/dev/null || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$2" || return 1
	echo "$pid"
}

# agent_pid RUN N: the PID of node N's Nomad agent if it still runs, else fails.
agent_pid() { live_pid "$1/node$2.pid" "-config $1/node$2.hcl"; }

# cluster_env RUN: the exports for node 1 (the Nomad CLI, deploy.sh, the job variables).
cluster_env() {
	"$root/scripts/nomad-config.sh" env "${cl_addrs[0]}" "${cl_addrs[@]}"
	echo "export BIN_DIR=$(cat "$1/bin_dir.path")"
	if [[ -n "${NOMAD_VAR_driver:-}" ]]; then echo "export NOMAD_VAR_driver=$NOMAD_VAR_driver"; fi
	echo "export NOMAD_VAR_consul_binary=$(cat "$1/consul.path")"
	echo "export PATH=$(dirname "$(cat "$1/nomad.path")"):\$PATH"
}

# api_get N PATH: GET on node N's Nomad HTTP API.
api_get() { curl -fsS --max-time 2 "http://${cl_addrs[$1 - 1]}:4646$2" 2>/dev/null; }

# cluster_ready RUN: node 1 sees a leader and N ready clients; every agent still runs (dies if not;
# they are this shell's children, so their PIDs cannot have been reused).
cluster_ready() {
	local n answer
	for n in "${cl_nodes[@]}"; do
		alive "$(cat "$1/node$n.pid")" || die "node $n's agent exited (see $1/node$n.log)"
	done
	has_leader "http://${cl_addrs[0]}:4646" && answer="$(api_get 1 '/v1/nodes?resources=false')" &&
		[[ "$(grep -o '"Status":"ready"' <<<"$answer" | wc -l)" -eq ${#cl_nodes[@]} ]]
}

# lo_up: 127.0.0.1 needs lo up; in a fresh network namespace (unshare --net) it is down.
lo_up() {
	command -v ip >/dev/null 2>&1 || return 0
	ip -o link show lo | grep -q '[<,]UP[,>]' && return 0
	[[ "$EUID" -eq 0 ]] || die "the loopback interface is down; bring it up first: ip link set lo up"
	log "bringing up lo (a fresh network namespace)"
	ip link set lo up
}

# interface_of ADDR: the interface that holds exactly ADDR, if any.
interface_of() { ip -o -4 addr show | awk -v a="$1" '$4 ~ "^"a"/" { print $2; exit }'; }

# start_node RUN N: start node N's agent in its own session (setsid: no terminal signal reaches it
# and it may outlive the caller; the caller stops it in order). Nodes but 127.0.0.1 get a bridge
# without ports that holds only their address: a Nomad client fingerprints its address from one.
start_node() {
	local run="$1" n="$2" addr="${cl_addrs[$2 - 1]}" iface
	iface="$(interface_of "$addr")"
	if [[ -z "$iface" ]]; then
		[[ "$EUID" -eq 0 ]] || die "$addr needs an interface of its own: run as root"
		iface="lb$n"
		ip link show "$iface" >/dev/null 2>&1 && die "interface $iface exists but does not hold $addr"
		ip link add "$iface" type bridge
		echo "$iface" >>"$run/bridges"
		ip addr add "$addr/32" dev "$iface"
		ip link set "$iface" up
	fi
	mkdir -p "$run/node$n/tmp"
	NOMAD_CGROUP_PARENT="/$cl_cgroup$n" "$root/scripts/nomad-config.sh" node "node$n" "$addr" "$iface" \
		"$run/node$n" "${#cl_addrs[@]}" "${cl_addrs[@]}" >"$run/node$n.hcl"
	# Non-interactive bash: setsid execs in place, so $! is the agent's own PID.
	CHECKPOINT_DISABLE=1 TMPDIR="$run/node$n/tmp" setsid "$(cat "$run/nomad.path")" agent \
		-config "$run/node$n.hcl" >"$run/node$n.log" 2>&1 &
	echo "$!" >"$run/node$n.pid"
}

# artifact_server_pid RUN: the PID of the artifact server RUN started, if it still runs.
artifact_server_pid() { live_pid "$1/artifact-server.pid" artifact-server; }

# artifact_server_answers: something answers HTTP on the artifact server's address.
artifact_server_answers() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$artifact_addr/")" != 000 ]]; }

# start_artifact_server RUN: serve the local release store (scripts/artifacts.sh serve) on
# $artifact_addr for the nodes' artifact downloads, in its own session like the agents: it must
# outlive every deploy (a rescheduled allocation downloads again), and it stops with the cluster.
start_artifact_server() {
	! artifact_server_answers || die "something already answers on $artifact_addr (an artifact server? stop it first)"
	CHECKPOINT_DISABLE=1 setsid "$root/scripts/artifacts.sh" serve "${artifact_addr#http://}" >"$1/artifact-server.log" 2>&1 &
	echo "$!" >"$1/artifact-server.pid"
	poll 60 artifact_server_answers || die "the artifact server does not answer on $artifact_addr (see $1/artifact-server.log)"
}

# cluster_up: build what is missing, start the nodes, wait (at most 90 s) for a leader and N ready
# clients, deploy every job. Sets run. Dies on failure: the caller's EXIT trap runs cluster_down.
cluster_up() {
	local addr n bin_dir="${BIN_DIR:-}" nomad consul
	lo_up
	if [[ -z "${NOMAD_VAR_driver:-}" && "$EUID" -ne 0 ]]; then
		log "not root: the exec driver needs a Nomad client running as root, so the jobs run with raw_exec (NOMAD_VAR_driver=raw_exec: no chroot, no resource limits)"
		export NOMAD_VAR_driver=raw_exec
	fi
	for addr in "${cl_addrs[@]}"; do
		if curl -s -o /dev/null --max-time 2 "http://$addr:4646/"; then
			die "something already answers on $addr:4646 (a Nomad agent? stop it first)"
		fi
	done
	if [[ -z "$bin_dir" ]]; then
		"$root/scripts/build.sh" >&2
		bin_dir="$root/bin"
	fi
	consul="$(realpath "$("$root/scripts/agents.sh" consul)")"
	nomad="$(realpath "$("$root/scripts/agents.sh" nomad)")"

	run="$(mktemp -d "${TMPDIR:-/tmp}/gokit-nomad-$cl_name.XXXXXX")"
	echo "$$" >"$run/owner.pid"
	echo "$consul" >"$run/consul.path"
	echo "$bin_dir" >"$run/bin_dir.path"
	echo "$nomad" >"$run/nomad.path"
	echo "$run" >"$cl_state"
	absent_cgroups nomad "${cl_nodes[@]/#/$cl_cgroup}" >"$run/cgroups"
	start_artifact_server "$run"
	for n in "${cl_nodes[@]}"; do start_node "$run" "$n"; done
	log "${#cl_nodes[@]} node(s) starting (logs: $run/node*.log)"
	poll 90 cluster_ready "$run" || die "no leader with ${#cl_nodes[@]} ready client(s) after 90 s"
	log "${#cl_nodes[@]} Nomad server(s) with a leader, ${#cl_nodes[@]} ready client(s)"
	(
		eval "$(cluster_env "$run")"
		"$root/scripts/deploy.sh"
	) || die "scripts/deploy.sh failed"
}

# cluster_down [KEEP_LOGS]: stop the jobs and the agents of the cluster that is up, then remove what
# they left: processes, mounts, cgroups, bridges; and the run dir, unless KEEP_LOGS is 1.
cluster_down() {
	local run n pid live=() addr="" cgroups=() bridge
	run="$(run_dir)" || return 0
	for n in "${cl_nodes[@]}"; do
		if pid="$(agent_pid "$run" "$n")"; then
			live+=("$pid")
			addr="${addr:-http://${cl_addrs[$n - 1]}:4646}"
		fi
	done
	log "stopping the jobs and ${#live[@]} live node(s)"
	if [[ ${#live[@]} -gt 0 ]]; then
		stop_nomad "$(cat "$run/nomad.path")" "$addr" "$run" "${live[@]}"
	else
		kill_leftovers "$run" # what dead agents left running, and their mounts
	fi
	if pid="$(artifact_server_pid "$run")"; then
		kill -TERM "$pid" 2>/dev/null || true
		wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	mapfile -t cgroups <"$run/cgroups"
	remove_cgroups "${cgroups[@]}"
	if [[ -f "$run/bridges" ]]; then
		while read -r bridge; do ip link del "$bridge" 2>/dev/null || true; done <"$run/bridges"
	fi
	if [[ "${1:-0}" -eq 1 ]]; then
		log "logs kept in $run (allocation logs: $run/node*/alloc/*/alloc/logs)"
	else
		rm -rf "$run"
	fi
	rm -f "$cl_state"
}

# kill_node N: crash node N: SIGKILL its agent and every process it started (its Consul server,
# stringsvc, gateway), found by the node's dir in their environment, even reparented ones.
kill_node() {
	local run n="${1:-}" pid victims
	if ! [[ "$n" =~ ^[0-9]+$ ]] || ((n < 1 || n > ${#cl_nodes[@]})); then
		die "usage: $0 kill-node N (N = 1..${#cl_nodes[@]})"
	fi
	run="$(run_dir)" || die "no cluster is up"
	pid="$(agent_pid "$run" "$n")" || die "node $n is not running"
	mapfile -t victims < <(processes_using "$run/node$n")
	kill -KILL "$pid" "${victims[@]}" 2>/dev/null || true
	wait_gone "$pid" "${victims[@]}" || die "node $n: processes still alive after SIGKILL"
	log "node $n (${cl_addrs[$n - 1]}) crashed: its agent and every process it started (${#victims[@]} in all) killed"
}
