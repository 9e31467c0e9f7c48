#!/usr/bin/env bash
# agents.sh - print the absolute path of a usable agent binary, building it if needed.
#
# Usage: scripts/agents.sh consul|nomad
#
# A binary already on PATH wins. Otherwise the wrapper module under scripts/tools/<name> is built
# through the Go module proxy into ${XDG_CACHE_HOME:-$HOME/.cache}/gokit-nomad/<name>-<version>/,
# so only the first run pays for the build (Consul: ~5 min cold, Nomad: ~8 min). Only the path goes to stdout;
# progress goes to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gokit-nomad"

# build_tool NAME VERSION MODULE_DIR [CGO_ENABLED]: print the path of NAME, building it if needed.
build_tool() {
	local name="$1" version="$2" module="$3" cgo="${4:-0}"
	if command -v "$name" >/dev/null 2>&1; then
		command -v "$name"
		return
	fi
	local dir="$cache_root/$name-$version"
	if [[ ! -x "$dir/$name" ]]; then
		echo "agents.sh: building $name $version into $dir (first run only, takes minutes)" >&2
		mkdir -p "$dir"
		# Build to a temporary name and rename: an interrupted build never leaves a broken binary.
		(cd "$root/$module" && GOWORK=off CGO_ENABLED="$cgo" go build -trimpath -o "$dir/$name.tmp" .)
		mv -f "$dir/$name.tmp" "$dir/$name"
		echo "agents.sh: built $dir/$name" >&2
	fi
	echo "$dir/$name"
}

case "${1:-}" in
consul) build_tool consul v1.13.9 scripts/tools/consul 0 ;;
nomad) build_tool nomad v1.6.1 scripts/tools/nomad 1 ;;
*)
	echo "usage: $0 consul|nomad" >&2
	exit 2
	;;
esac
