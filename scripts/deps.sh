#!/usr/bin/env bash
# deps.sh - install, with apt-get, the system packages a stage of scripts/test.sh needs and the
# machine lacks: for the unit stage the shellcheck linter, gcc + libc6-dev (-race), vagrant and
# ruby (to validate the Vagrantfile), prometheus (promtool: the rules and their tests); for the
# system stage also curl, iproute2 (ip), util-linux (unshare, setsid), chromium (the status page
# test renders the page), docker.io (dockerd and docker: the container images test) and
# prometheus (the Nomad job nomad/prometheus.nomad runs it; without systemd its own service
# does not start). Packages come without their recommends.
#
# Usage: scripts/deps.sh [unit|system|all]          install what is missing (default all; needs
#                                                   root when something is)
#        scripts/deps.sh --check [unit|system|all]  install nothing: if something is missing, say
#                                                   what to install in one line and fail
set -euo pipefail

check=0
if [[ "${1:-}" == --check ]]; then
	check=1
	shift
fi
stage="${1:-all}"

# The commands each stage needs, and the package(s) that provide each command.
unit_cmds=(shellcheck gcc vagrant ruby promtool)
system_cmds=(gcc curl ip unshare setsid chromium dockerd docker prometheus promtool)
declare -A provider=(
	[shellcheck]=shellcheck
	[curl]=curl
	[ip]=iproute2
	[unshare]=util-linux
	[setsid]=util-linux
	[gcc]="gcc libc6-dev"
	[vagrant]=vagrant
	[ruby]=ruby
	[chromium]=chromium
	[dockerd]=docker.io
	[docker]=docker.io
	[prometheus]=prometheus
	[promtool]=prometheus
)
case "$stage" in
unit) cmds=("${unit_cmds[@]}") ;;
system) cmds=("${system_cmds[@]}") ;;
all) cmds=("${unit_cmds[@]}" "${system_cmds[@]}") ;;
*)
	echo "usage: $0 [--check] [unit|system|all]" >&2
	exit 2
	;;
esac

missing=()
for cmd in "${cmds[@]}"; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		read -ra pkgs <<<"${provider[$cmd]}"
		missing+=("${pkgs[@]}")
	fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ "$check" -eq 1 || "$EUID" -ne 0 ]]; then
	what="the $stage stage needs"
	[[ "$stage" != all ]] || what="the tests need"
	echo "deps.sh: $what packages this machine lacks: ${missing[*]}; install them (as root: scripts/deps.sh $stage, or apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
