# shellcheck shell=bash
# nomad-lib.sh - what scripts/dev.sh and scripts/cluster.sh share to stop the Nomad agents they
# started and remove what those left behind. Sourced, not run.
#
# Every function acts only on what the caller names: PIDs it started, directories it made, cgroups
# it noted as absent before starting the agents.

# alive PID: the process exists and is not a zombie. An orphan's zombie stays until its new parent
# reaps it, and in a PID namespace that parent may be a program that never does (a test binary).
alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z ]]
}

not_alive() { ! alive "$1"; }

# processes_using DIR: print the live processes whose environment names DIR. An agent started with
# TMPDIR below DIR hands that on to its helpers, and its tasks get their allocation dirs below
# DIR: this finds all of them even after the agent died and its children were reparented.
processes_using() {
	local pid
	[[ "$1" == /?*/?* ]] || return 1 # never "/" or a top-level dir: that would match everything
	for pid in $(ps -eo pid=); do
		alive "$pid" || continue
		if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qF "$1/"; then echo "$pid"; fi
	done
}

# any_alive PID...: at least one of the processes runs.
any_alive() {
	local pid
	for pid in "$@"; do
		alive "$pid" && return 0
	done
	return 1
}

# wait_gone PID...: wait (bounded, 10 s) until none of the processes runs any more.
wait_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		any_alive "$@" || return 0
		sleep 0.1
	done
	return 1
}

# tasks_of NOMAD_BIN RUN_DIR: print the processes the agents of RUN_DIR started that are tasks,
# not Nomad's own helpers (the nomad binary re-executed as executor or logmon).
tasks_of() {
	local pid
	for pid in $(processes_using "$2"); do
		[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$1" ]] || echo "$pid"
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
		[[ -d "$dir" ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
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

# stop_nomad NOMAD_BIN NOMAD_ADDR RUN_DIR AGENT_PID...: stop the jobs of scripts/deploy.sh in
# reverse order (stringsvc deregisters and drains while Consul still runs), wait (bounded, 45 s)
# for their tasks to end, stop the agents (SIGINT, then SIGKILL after 30 s), then kill_leftovers.
stop_nomad() {
	local nomad_bin="$1" addr="$2" run="$3" job i pid
	shift 3
	for job in gateway stringsvc consul; do
		NOMAD_ADDR="$addr" "$nomad_bin" job stop -detach "$job" >/dev/null 2>&1 || true
	done
	for ((i = 0; i < 225; i++)); do
		[[ -z "$(tasks_of "$nomad_bin" "$run")" ]] && break
		any_alive "$@" || break # no agent left to stop them: kill_leftovers does
		sleep 0.2
	done
	for pid in "$@"; do
		kill -INT "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		for ((i = 0; i < 150; i++)); do
			not_alive "$pid" && break
			sleep 0.2
		done
		not_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
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
		wait_gone "${left[@]}" || echo "nomad-lib.sh: still running after SIGKILL: ${left[*]}" >&2
	fi
	unmount_under "$1"
}
