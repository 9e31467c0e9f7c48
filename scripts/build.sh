#!/usr/bin/env bash
# build.sh - build static binaries of the services into bin/, with their checksums; and the
# container images of stringsvc and the gateway.
#
# Usage: scripts/build.sh          the binaries
#        scripts/build.sh images   the binaries, then the images
#
# Builds bin/stringsvc, bin/gateway, bin/graysvc (stringsvc's gray-failure stand-in, for the
# tests and bench/run.sh) and bin/artifact-server (serves the local release store to the Nomad
# jobs: scripts/artifacts.sh) with CGO_ENABLED=0 and -trimpath; GOOS and GOARCH are taken from the
# environment (cross-compile with e.g. GOOS=linux GOARCH=arm64 scripts/build.sh). Writes
# bin/SHA256SUMS (`sha256sum` format): the jobs download the binaries as Nomad artifacts and check
# them against these sums (scripts/deploy.sh passes them as job variables).
# Prints the absolute path of each binary on stdout.
#
# images builds stringsvc/Dockerfile and gateway/Dockerfile (FROM scratch: nothing is pulled) with
# Docker's classic builder (DOCKER_BUILDKIT=0: BuildKit may pull its frontend), each from a context
# holding only its binary, on the daemon the docker CLI finds (DOCKER_HOST, else the default
# socket). Tags gokit-nomad/<name>:<rev> and gokit-nomad/<name>:latest, where <rev> is git's short
# commit, with -dirty when the work tree differs from it, or dev outside a git checkout; the labels
# carry the same version and the full commit. Prints each image's two tags on stdout after the
# binaries (docker's own output goes to stderr). The binaries must be for the daemon's OS and
# architecture.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode="${1:-}"
case "$mode" in
"" | images) ;;
*)
	echo "usage: $0 [images]" >&2
	exit 2
	;;
esac

die() {
	echo "build.sh: $*" >&2
	exit 1
}

# check_docker fails in one line unless a docker CLI is installed, a daemon answers it, and that
# daemon runs binaries of the GOOS and GOARCH they are built for.
check_docker() {
	command -v docker >/dev/null 2>&1 || die "docker is not installed (Debian: apt-get install docker.io); cannot build images"
	local platform
	platform="$(docker version --format '{{.Server.Os}}/{{.Server.Arch}}' 2>/dev/null)" ||
		die "no docker daemon answers at ${DOCKER_HOST:-the default socket (unix:///var/run/docker.sock)}; start dockerd or set DOCKER_HOST"
	[[ "$platform" == "$(go env GOOS)/$(go env GOARCH)" ]] ||
		die "the binaries would be built for $(go env GOOS)/$(go env GOARCH), the docker daemon runs $platform"
}

# build_images builds the image of each binary from a temporary context holding only that binary.
build_images() {
	local revision version=dev name
	if revision="$(git rev-parse --verify -q HEAD 2>/dev/null)"; then
		version="$(git rev-parse --short HEAD)"
		# Untracked files count too: they may be built into the binaries.
		[[ -z "$(git status --porcelain)" ]] || version+="-dirty"
	else
		revision=unknown
	fi
	context="$(mktemp -d)" # global: the trap runs after this function has returned
	trap 'rm -rf "$context"' EXIT
	for name in stringsvc gateway; do
		rm -f "$context"/*
		cp "bin/$name" "$context/$name"
		DOCKER_BUILDKIT=0 docker build --file "$name/Dockerfile" \
			--build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
			--tag "gokit-nomad/$name:$version" --tag "gokit-nomad/$name:latest" "$context" >&2
		echo "gokit-nomad/$name:$version gokit-nomad/$name:latest"
	done
}

[[ "$mode" != images ]] || check_docker
mkdir -p bin

names=()
for pkg in stringsvc/cmd/stringsvc gateway/cmd/gateway stringsvc/cmd/graysvc scripts/artifact-server; do
	CGO_ENABLED=0 go build -trimpath -o "bin/${pkg##*/}" "./$pkg"
	names+=("${pkg##*/}")
	echo "$root/bin/${pkg##*/}"
done
# Written whole, then renamed: a reader (the artifact server) never sees half a file.
(cd bin && sha256sum "${names[@]}" >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)

[[ "$mode" != images ]] || build_images
