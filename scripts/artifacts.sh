#!/usr/bin/env bash
# artifacts.sh - the local release store the Nomad jobs download their binaries from.
#
# Usage: scripts/artifacts.sh publish [BIN_DIR]   copy BIN_DIR's (default bin/) stringsvc and gateway
#                                                 into the store as a release; print its name
#        scripts/artifacts.sh serve [LISTEN]      serve the store over HTTP (default 127.0.0.1:8070)
#                                                 with bin/artifact-server (built if missing), in
#                                                 the foreground
#
# A release is a folder of the store named after its checksums (the first 16 hex digits of the
# sha256 of its SHA256SUMS): the same build publishes to the same folder, a new build to a new one.
# Old releases stay, so that a rescheduled allocation of an older job version and an auto_revert to
# one still find their binaries; all but the newest ARTIFACT_KEEP (default 10) are removed on
# publish. The jobs get `artifact_url` = http://LISTEN/<release> and the checksums from
# SHA256SUMS (scripts/deploy.sh passes them). A real cluster points artifact_url at its own store
# instead (a release page, an object store), with the same three files per release.
#
# Environment: ARTIFACT_STORE   the store (default bin/releases of this repository)
#              ARTIFACT_KEEP    releases kept on publish (default 10)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
store="${ARTIFACT_STORE:-$root/bin/releases}"
files=(stringsvc gateway)

die() {
	echo "artifacts.sh: $*" >&2
	exit 1
}

publish() {
	local bin="${1:-$root/bin}" sums release tmp
	for f in "${files[@]}"; do [[ -f "$bin/$f" ]] || die "$bin/$f is missing (scripts/build.sh builds it)"; done
	sums="$(cd "$bin" && sha256sum "${files[@]}")"
	release="$(sha256sum <<<"$sums" | cut -c1-16)"
	mkdir -p "$store"
	if [[ ! -d "$store/$release" ]]; then
		# Filled in a temporary folder, then renamed: a download never sees half a release.
		tmp="$(mktemp -d "$store/.publish.XXXXXX")"
		cp "${files[@]/#/$bin/}" "$tmp/"
		echo "$sums" >"$tmp/SHA256SUMS"
		chmod 755 "$tmp"
		mv "$tmp" "$store/$release"
	fi
	touch "$store/$release"
	prune
	echo "$release"
}

# prune: remove all but the newest ARTIFACT_KEEP releases (by the time they were last published).
prune() {
	local keep="${ARTIFACT_KEEP:-10}" old
	[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "ARTIFACT_KEEP must be a positive integer, not '$keep'"
	while read -r old; do
		rm -rf "${store:?}/$old"
	done < <(find "$store" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{16}' \
		-printf '%T@ %f\n' | sort -rn | tail -n "+$((keep + 1))" | cut -d' ' -f2)
}

serve() {
	local server="$root/bin/artifact-server"
	if [[ ! -x "$server" ]]; then
		(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$server" ./scripts/artifact-server) ||
			die "cannot build $server"
	fi
	mkdir -p "$store"
	exec "$server" -dir "$store" -listen "${1:-127.0.0.1:8070}"
}

case "${1:-}" in
publish) publish "${@:2}" ;;
serve) serve "${@:2}" ;;
*)
	sed -n '3,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
