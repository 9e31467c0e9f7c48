#!/usr/bin/env bash
# build.sh - build static binaries of the services into bin/.
#
# Usage: scripts/build.sh
#
# Builds bin/stringsvc, bin/gateway and bin/graysvc (stringsvc's gray-failure stand-in, for the
# tests and bench/run.sh) with CGO_ENABLED=0 and -trimpath; GOOS and GOARCH are taken from the
# environment (cross-compile with e.g. GOOS=linux GOARCH=arm64 scripts/build.sh).
# Prints the absolute path of each binary on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p bin

for pkg in stringsvc/cmd/stringsvc gateway/cmd/gateway stringsvc/cmd/graysvc; do
	CGO_ENABLED=0 go build -trimpath -o "bin/${pkg##*/}" "./$pkg"
	echo "$root/bin/${pkg##*/}"
done
