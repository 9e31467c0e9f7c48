#!/usr/bin/env bash
# build.sh - build static binaries of the services into bin/, with their checksums.
#
# Usage: scripts/build.sh
#
# Builds bin/stringsvc, bin/gateway, bin/graysvc (stringsvc's gray-failure stand-in, for the
# tests and bench/run.sh) and bin/artifact-server (serves the local release store to the Nomad
# jobs: scripts/artifacts.sh) with CGO_ENABLED=0 and -trimpath; GOOS and GOARCH are taken from the
# environment (cross-compile with e.g. GOOS=linux GOARCH=arm64 scripts/build.sh). Writes
# bin/SHA256SUMS (`sha256sum` format): the jobs download the binaries as Nomad artifacts and check
# them against these sums (scripts/deploy.sh passes them as job variables).
# Prints the absolute path of each binary on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p bin

names=()
for pkg in stringsvc/cmd/stringsvc gateway/cmd/gateway stringsvc/cmd/graysvc scripts/artifact-server; do
	CGO_ENABLED=0 go build -trimpath -o "bin/${pkg##*/}" "./$pkg"
	names+=("${pkg##*/}")
	echo "$root/bin/${pkg##*/}"
done
# Written whole, then renamed: a reader (the artifact server) never sees half a file.
(cd bin && sha256sum "${names[@]}" >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
