#!/usr/bin/env bash
# build.sh - build static binaries of the services into bin/.
#
# Usage: scripts/build.sh
#
# Builds bin/stringsvc and bin/gateway with CGO_ENABLED=0 and -trimpath; GOOS and GOARCH are taken
# from the environment (cross-compile with e.g. GOOS=linux GOARCH=arm64 scripts/build.sh).
# Prints the absolute path of each binary on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p bin

for cmd in stringsvc gateway; do
	CGO_ENABLED=0 go build -trimpath -o "bin/$cmd" "./$cmd/cmd/$cmd"
	echo "$root/bin/$cmd"
done
