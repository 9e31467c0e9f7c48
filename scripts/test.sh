#!/usr/bin/env bash
# test.sh - run every check of the project: static checks, unit tests and system tests.
#
# Usage: scripts/test.sh [all|unit|system]     (default: all)
#   unit    static checks (gofmt, no binary linking a test helper, go vet, staticcheck, shellcheck;
#           nomad fmt and job validate on nomad/*.nomad; promtool check and test of Prometheus'
#           rules; the Vagrantfile with vagrant validate and ruby -c), `go test -race ./...` and
#           every fuzz target for FUZZTIME (default 5s) each.
#           Runs as any user and installs no system package: when one is missing it says which
#           and fails (staticcheck is go-installed into GOBIN)
#   system  builds bin/*, Consul, Nomad and the systemtest binary, then runs the system tests and
#           the Nomad end-to-end test inside a loopback-only network namespace (own mount and PID
#           namespaces too); needs root (for unshare). SYSTEM_TEST_RUN=REGEXP runs only the
#           matching system tests (go test -run), e.g. SYSTEM_TEST_RUN=ThreeNode
#   all and system install the system packages they lack first (scripts/deps.sh, as root).
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
if [[ "$mode" == unit ]]; then
	scripts/deps.sh --check unit
else
	scripts/deps.sh "$mode"
fi

# Test-only packages: no binary may link them (or a package below them).
test_helpers=(
	github.com/example/gokit-nomad/stringsvc/platform/testkit
	github.com/example/gokit-nomad/stringsvc/contract/hostile
)

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
		GOBIN="$gobin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2 || {
			echo "test.sh: staticcheck is missing and go install failed: install honnef.co/go/tools/cmd/staticcheck@v0.8.2 on PATH" >&2
			return 1
		}
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

	stage="test helpers"
	echo "== no binary links a test helper (go list -deps of every main package)"
	binary_imports | linked_test_helpers

	stage="request path"
	echo "== the gateway's request path knows no service (go list -deps)"
	request_path_knows_no_service

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
	echo "== shellcheck -x scripts/*.sh bench/*.sh .ci/run"
	shellcheck -x scripts/*.sh bench/*.sh .ci/run

	job_checks
	monitoring_checks
	vagrant_checks
}

# monitoring_checks: Prometheus' rules are valid, render unchanged through their template blocks
# (delimiters [[ ]]), and pass their unit tests (every alert fires and resolves). What the job's
# templates render, and the dashboard's queries, are checked against a real Prometheus by the
# Nomad end-to-end test.
monitoring_checks() {
	stage="prometheus rules"
	echo "== promtool check rules, promtool test rules: nomad/prometheus/"
	if grep -n '\[\[\|\]\]' nomad/prometheus/*.rules.yml; then
		echo "test.sh: a rules file holds [[ or ]], the delimiters of its template block (above)" >&2
		return 1
	fi
	promtool check rules nomad/prometheus/*.rules.yml
	(cd nomad/prometheus/tests && promtool test rules ./*.yml)
}

# binary_imports prints "BINARY PACKAGE IMPORT" for each import of each package that a main package
# of the module links (go list -deps: the packages the binary is built from, tests excluded).
binary_imports() {
	local mains main
	mains="$(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...)"
	[[ -n "$mains" ]] || {
		echo "test.sh: go list found no main package" >&2
		return 1
	}
	for main in $mains; do
		go list -deps -f '{{range .Imports}}{{$.ImportPath}} {{.}}{{"\n"}}{{end}}' "$main" |
			sed "s|^|$main |"
	done
}

# linked_test_helpers reads binary_imports' lines and prints one line for each test helper a binary
# links, naming the packages that import it; fails if there is one.
linked_test_helpers() {
	awk -v helpers="${test_helpers[*]}" '
		BEGIN { n = split(helpers, h, " ") }
		function helper(p, i) { for (i = 1; i <= n; i++) if (p == h[i] || index(p, h[i] "/") == 1) return h[i]; return "" }
		{ imported = helper($3) }
		imported != "" && helper($2) == "" {
			key = $1 " " imported
			if (key in by) by[key] = by[key] ", " $2; else { by[key] = $2; found++ }
		}
		END {
			for (key in by) {
				split(key, f, " ")
				printf "test.sh: binary %s links the test helper %s (imported by %s)\n", f[1], f[2], by[key]
			}
			exit found > 0
		}' >&2
}

# request_path_knows_no_service fails if a package of the gateway's request path links a package
# of stringsvc other than the shared ones (stringsvc/platform): the gateway knows a service only
# through what it declares.
request_path_knows_no_service() {
	local module=github.com/example/gokit-nomad linked
	linked="$(go list -deps ./gateway/discovery ./gateway/edge ./gateway/proxy ./gateway/routing ./gateway/status ./gateway/upstream |
		grep "^$module/stringsvc/" | grep -v "^$module/stringsvc/platform/" || true)"
	if [[ -n "$linked" ]]; then
		echo "test.sh: the gateway's request path links stringsvc's own packages: ${linked//$'\n'/ }" >&2
		return 1
	fi
}

# job_checks: the job files are `nomad fmt` clean and valid, and the node template renders a valid
# agent configuration.
job_checks() {
	stage="nomad job files"
	local nomad file config fake_sha256
	nomad="$(scripts/agents.sh nomad)"
	fake_sha256="$(printf '%064d' 0)"
	echo "== nomad fmt -check, nomad job validate: nomad/*.nomad"
	for file in nomad/*.nomad; do
		"$nomad" fmt -check "$file"
		# Without an agent to ask, validate skips only the driver check (and says so). A release's
		# URL and checksums have no defaults: these stand in (nothing is downloaded).
		NOMAD_ADDR=http://127.0.0.1:1 NOMAD_VAR_artifact_url=https://releases.example.com/gokit-nomad/v1 \
			NOMAD_VAR_stringsvc_sha256="$fake_sha256" NOMAD_VAR_gateway_sha256="$fake_sha256" \
			"$nomad" job validate "$file" | grep -v '^Driver configuration not validated'
	done
	echo "== nomad config validate: scripts/nomad-config.sh node"
	config="$(mktemp --suffix=.hcl)"
	scripts/nomad-config.sh node node1 192.168.56.11 eth1 /opt/nomad/data 3 \
		192.168.56.11 192.168.56.12 192.168.56.13 >"$config"
	"$nomad" config validate "$config" 2>&1 | grep -v "^WARNING: mTLS"
	rm -f "$config"
}

vagrant_checks() {
	stage="Vagrantfile"
	echo "== ruby -c Vagrantfile; vagrant validate -p"
	ruby -c Vagrantfile
	# -p: the provider (VirtualBox) is not installed here; everything else is checked.
	VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate -p
}

unit_tests() {
	stage="unit tests"
	echo "== go test -race -count=1 ./..."
	CGO_ENABLED=1 go test -race -count=1 ./...

	# Every fuzz target, briefly: new inputs beyond the committed seeds (go test runs only one
	# target per -fuzz). A failing input is written to testdata/fuzz/ to be committed with the fix.
	stage="fuzz"
	local pkg target
	while read -r pkg target; do
		echo "== go test -fuzz $target -fuzztime ${FUZZTIME:-5s} $pkg"
		go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-5s}" "$pkg"
	done < <(fuzz_targets)
}

# fuzz_targets prints "PACKAGE TARGET" for every fuzz target of the module.
fuzz_targets() {
	local file target
	grep -rHoP --include '*_test.go' '^func \KFuzz\w+' . | while IFS=: read -r file target; do
		echo "./$(dirname "${file#./}") $target"
	done
}

system_tests() {
	stage="system build"
	echo "== build binaries, Consul, Nomad and the systemtest binary"
	scripts/build.sh
	local consul nomad
	consul="$(realpath "$(scripts/agents.sh consul)")"
	nomad="$(realpath "$(scripts/agents.sh nomad)")"
	go test -c -tags integration -o bin/systemtest.test ./gateway/systemtest

	stage="system tests"
	echo "== system tests (loopback-only namespace; consul: $consul, nomad: $nomad)"
	# Nothing but lo exists in the network namespace: the tests can reach 127.0.0.0/8 only.
	# The private mount namespace keeps Nomad's task mounts off the host; in the PID namespace the
	# test binary is PID 1, so whatever it started dies with it, even if it is killed.
	# shellcheck disable=SC2016 # $0 is expanded by the inner bash: it is the test binary.
	env CHECKPOINT_DISABLE=1 \
		CONSUL_BIN="$consul" \
		NOMAD_BIN="$nomad" \
		STRINGSVC_BIN="$root/bin/stringsvc" \
		GATEWAY_BIN="$root/bin/gateway" \
		GRAYSVC_BIN="$root/bin/graysvc" \
		PROMETHEUS_BIN="$(command -v prometheus)" \
		PROMTOOL_BIN="$(command -v promtool)" \
		unshare --net --mount --propagation private --pid --fork --mount-proc -- \
		bash -c 'ip link set lo up && cd gateway/systemtest && exec "$0" -test.v -test.timeout 20m -test.run "$1"' \
		"$root/bin/systemtest.test" "${SYSTEM_TEST_RUN:-.}"
}

if [[ "$mode" != system ]]; then
	static_checks
	unit_tests
fi
if [[ "$mode" != unit ]]; then
	system_tests
fi
stage="done"
