#!/usr/bin/env bash
# deps.sh - install, with apt-get, the system packages the scripts need and the machine lacks:
# the shellcheck linter, curl, iproute2 (ip), util-linux (unshare, setsid), gcc + libc6-dev (-race),
# vagrant and ruby (to validate the Vagrantfile), chromium (the status page test renders the page).
#
# Usage: scripts/deps.sh        (a no-op when everything is there; needs root when it is not)
set -euo pipefail

# The package(s) that provide each command.
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
)
missing=()
for cmd in "${!provider[@]}"; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		read -ra pkgs <<<"${provider[$cmd]}"
		missing+=("${pkgs[@]}")
	fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "$EUID" -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
