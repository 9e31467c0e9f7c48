#!/usr/bin/env bash
# test.sh - run every check of the project: static checks, unit tests and system tests.
#
# Usage: scripts/test.sh [all|unit|system]     (default: all)
#   unit    static checks (gofmt, go vet, staticcheck, shellcheck) and `go test -race ./...`
#   system  builds bin/*, a Consul agent and the systemtest binary, then runs it inside a
#           loopback-only network namespace; needs root (for unshare --net)
# Ends with one summary line; exits non-zero on the first failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode="${1:-all}"
case "$mode" in
all | unit | system) ;;
*)
	echo "usage: $0 [all|unit|system]" >&2
	exit 2
	;;
esac

if [[ "$mode" != unit && "$EUID" -ne 0 ]]; then
	echo "test.sh: system tests need root (they run in a network namespace made by unshare --net);" >&2
	echo "test.sh: run as root, or run only static checks and unit tests: $0 unit" >&2
	exit 1
fi

stage="setup"
summary() {
	local rc=$?
	if [[ $rc -eq 0 ]]; then
		echo "test.sh: PASS ($mode) in ${SECONDS}s"
	else
		echo "test.sh: FAIL ($mode) at stage '$stage' (exit $rc) after ${SECONDS}s"
	fi
}
trap summary EXIT

stage="dependencies"
scripts/deps.sh

# staticcheck_bin prints the path of staticcheck, installing it into GOBIN if it is missing.
staticcheck_bin() {
	if command -v staticcheck >/dev/null 2>&1; then
		command -v staticcheck
		return
	fi
	local gobin
	gobin="$(go env GOBIN)"
	gobin="${gobin:-$(go env GOPATH)/bin}"
	if [[ ! -x "$gobin/staticcheck" ]]; then
		echo "test.sh: installing staticcheck into $gobin" >&2
		GOBIN="$gobin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	fi
	echo "$gobin/staticcheck"
}

static_checks() {
	stage="gofmt"
	echo "== gofmt -l ."
	local unformatted
	unformatted="$(gofmt -l .)"
	if [[ -n "$unformatted" ]]; then
		echo "test.sh: these files need gofmt:" >&2
		echo "$unformatted" >&2
		return 1
	fi

	stage="go vet"
	echo "== go vet ./... (with and without -tags integration)"
	go vet ./...
	go vet -tags integration ./...

	stage="staticcheck"
	echo "== staticcheck ./..."
	local sc
	sc="$(staticcheck_bin)"
	"$sc" ./...
	"$sc" -tags integration ./...

	stage="shellcheck"
	echo "== shellcheck scripts/*.sh .ci/run"
	shellcheck scripts/*.sh .ci/run
}

unit_tests() {
	stage="unit tests"
	echo "== go test -race -count=1 ./..."
	CGO_ENABLED=1 go test -race -count=1 ./...
}

system_tests() {
	stage="system build"
	echo "== build binaries, Consul and the systemtest binary"
	scripts/build.sh
	local consul
	consul="$(scripts/agents.sh consul)"
	consul="$(realpath "$consul")"
	go test -c -tags integration -o bin/systemtest.test ./gateway/systemtest

	stage="system tests"
	echo "== system tests (loopback-only network namespace, consul: $consul)"
	# Nothing but lo exists in the namespace: the tests can reach 127.0.0.0/8 only.
	# shellcheck disable=SC2016 # $0 is expanded by the inner bash: it is the test binary.
	env CHECKPOINT_DISABLE=1 \
		CONSUL_BIN="$consul" \
		STRINGSVC_BIN="$root/bin/stringsvc" \
		GATEWAY_BIN="$root/bin/gateway" \
		unshare --net -- bash -c 'ip link set lo up && cd gateway/systemtest && exec "$0" -test.v -test.timeout 15m' \
		"$root/bin/systemtest.test"
}

if [[ "$mode" != system ]]; then
	static_checks
	unit_tests
fi
if [[ "$mode" != unit ]]; then
	system_tests
fi
stage="done"
