#!/usr/bin/env bash
# deploy.sh - run every job of nomad/ against a Nomad cluster, in dependency order, and wait
# until the system answers through the gateway.
#
# Usage: scripts/deploy.sh
#
# Order: consul, stringsvc, gateway, prometheus. Each `nomad job run` waits for its evaluation
# (and, for the service jobs, their deployment); then this script waits until every allocation of
# the job runs, Consul has a leader, the gateway answers a request and Prometheus is ready. Any
# `nomad job run` order works too (the others wait for Consul themselves): this order only reaches
# "ready" soonest. It runs the job files from the repository's root, where prometheus.nomad finds
# its configuration (nomad/prometheus/).
#
# Environment (all optional):
#   NOMAD_ADDR          Nomad HTTP API (default http://127.0.0.1:4646); NOMAD_TOKEN etc. as usual
#   NOMAD_VAR_<name>    job variables, read by nomad itself, e.g. NOMAD_VAR_servers=3,
#                       NOMAD_VAR_retry_join='["10.0.0.1","10.0.0.2"]' (see the variable blocks)
#   NOMAD_VAR_artifact_url  the release folder the nodes download stringsvc and gateway from
#                       (http/https; it holds them and their SHA256SUMS). Default: BIN_DIR's
#                       binaries published to the local release store (scripts/artifacts.sh publish)
#                       and served by ARTIFACT_SERVER, which must answer on the nodes too (dev.sh,
#                       cluster.sh and the Vagrant VMs run one on each node's 127.0.0.1:8070)
#   NOMAD_VAR_stringsvc_sha256, NOMAD_VAR_gateway_sha256  the binaries' sha256 (default: read from
#                       the release's SHA256SUMS, which must then list them)
#   NOMAD_VAR_driver    exec (the jobs' default: chroot, cgroups; the Nomad client runs as root) or
#                       raw_exec
#   BIN_DIR             binaries to publish when NOMAD_VAR_artifact_url is unset (default: bin/)
#   ARTIFACT_SERVER     the local store's server (default http://127.0.0.1:8070)
#   NOMAD_VAR_consul_binary  Consul on the nodes (default: the `consul` on PATH here, else the one
#                       scripts/agents.sh builds: both assume this machine is a node, as it is
#                       with scripts/dev.sh and in the Vagrant VMs)
#   CONSUL_HTTP_ADDR    a Consul agent to check for a leader (default 127.0.0.1:8500)
#   GATEWAY_URL         a gateway to check (default http://127.0.0.1:8080)
#   NOMAD_VAR_scrape_interval  how often Prometheus scrapes and evaluates its rules (default 15s)
#   DEPLOY_TIMEOUT      seconds to wait for each step (default 180)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs_in_order=(consul stringsvc gateway prometheus)

export NOMAD_ADDR="${NOMAD_ADDR:-http://127.0.0.1:4646}"
consul_addr="${CONSUL_HTTP_ADDR:-127.0.0.1:8500}"
consul_addr="${consul_addr#http://}"
gateway_url="${GATEWAY_URL:-http://127.0.0.1:8080}"
timeout="${DEPLOY_TIMEOUT:-180}"

log() { echo "deploy.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# wait_until WHAT CMD...: run CMD (quiet by itself) every 0.5 s until it succeeds; give up after
# $timeout s.
wait_until() {
	local what="$1" i
	shift
	for ((i = 0; i < timeout * 2; i++)); do
		"$@" >/dev/null && return 0
		sleep 0.5
	done
	die "timed out after ${timeout}s waiting until $what"
}

# all_running JOB: every allocation Nomad wants running for JOB (and has not replaced) runs, and
# there is at least one.
# A failed allocation ends the wait at once, with its task events.
all_running() {
	local states failed
	states="$("$nomad" job allocs -t '{{range .}}{{if and (eq .DesiredStatus "run") (eq .NextAllocation "")}}{{.ClientStatus}}:{{.ID}} {{end}}{{end}}' "$1" 2>/dev/null)" || return 1
	failed="$(grep -o 'failed:[^ ]*' <<<"$states" | head -n 1)"
	if [[ -n "$failed" ]]; then
		"$nomad" alloc status "${failed#failed:}" | tail -n 12 >&2 || true
		die "an allocation of $1 failed (above: its recent events)"
	fi
	[[ -n "$states" ]] && ! grep -o '[a-z]*:' <<<"$states" | grep -qv '^running:$'
}

nomad_answers() { "$nomad" node status >/dev/null 2>&1; }

consul_has_leader() { curl -fs --max-time 2 "http://$consul_addr/v1/status/leader" | grep -q ':'; }

gateway_answers() {
	curl -fs --max-time 2 -d '{"s":"foo"}' "$gateway_url/stringsvc/uppercase" | grep -q '"FOO"'
}

# prometheus_addr prints where Prometheus listens, from its Nomad service (on whichever node).
prometheus_addr() {
	"$nomad" service info -t '{{range .}}{{.Address}}:{{.Port}}{{"\n"}}{{end}}' prometheus 2>/dev/null | head -n 1 | grep ':'
}

prometheus_ready() {
	local addr
	addr="$(prometheus_addr)" && curl -fs --max-time 2 "http://$addr/-/ready" >/dev/null
}

if command -v nomad >/dev/null 2>&1; then
	nomad="$(command -v nomad)"
else
	nomad="$("$root/scripts/agents.sh" nomad)"
fi

# Every job file must have its place in the order: a new file fails loudly instead of being skipped.
for file in "$root"/nomad/*.nomad; do
	name="$(basename "$file" .nomad)"
	[[ " ${jobs_in_order[*]} " == *" $name "* ]] || die "nomad/$name.nomad is not in jobs_in_order"
done

if [[ -z "${NOMAD_VAR_artifact_url:-}" ]]; then
	release="$("$root/scripts/artifacts.sh" publish "${BIN_DIR:-$root/bin}")"
	export NOMAD_VAR_artifact_url="${ARTIFACT_SERVER:-http://127.0.0.1:8070}/$release"
fi
if [[ -z "${NOMAD_VAR_stringsvc_sha256:-}" || -z "${NOMAD_VAR_gateway_sha256:-}" ]]; then
	sums="$(curl -fsS --max-time 10 "$NOMAD_VAR_artifact_url/SHA256SUMS")" ||
		die "cannot read $NOMAD_VAR_artifact_url/SHA256SUMS: is the artifact server up? (locally: scripts/artifacts.sh serve)"
	for bin in stringsvc gateway; do
		var="NOMAD_VAR_${bin}_sha256"
		[[ -n "${!var:-}" ]] || export "$var=$(awk -v f="$bin" '$2 == f || $2 == "*" f { print $1 }' <<<"$sums")"
		[[ -n "${!var}" ]] || die "$NOMAD_VAR_artifact_url/SHA256SUMS lists no $bin"
	done
fi

log "Nomad at $NOMAD_ADDR, release $NOMAD_VAR_artifact_url (driver ${NOMAD_VAR_driver:-exec})"
wait_until "Nomad answers at $NOMAD_ADDR" nomad_answers

for job in "${jobs_in_order[@]}"; do
	log "running nomad/$job.nomad"
	(cd "$root" && "$nomad" job run "nomad/$job.nomad") >&2
	wait_until "every allocation of $job runs" all_running "$job"
	if [[ "$job" == consul ]]; then
		wait_until "Consul at $consul_addr has a leader" consul_has_leader
	fi
done
wait_until "the gateway at $gateway_url answers" gateway_answers
wait_until "Prometheus is ready" prometheus_ready
prometheus_url="http://$(prometheus_addr)"

nomad_ui="$NOMAD_ADDR/ui/"
# A Nomad built from source (scripts/agents.sh) has no web UI; it says so on /ui/.
if curl -fs --max-time 2 "$nomad_ui" | grep -q 'not available in this binary'; then
	nomad_ui="not in this Nomad build; use the CLI: nomad job status"
fi
cat <<-MSG
	Deployed. Try:
	  curl -sS -d '{"s":"foo"}' $gateway_url/stringsvc/uppercase
	  curl -sS -d '{"s":"foo"}' $gateway_url/stringsvc/count
	Gateway status (open it in a browser for the HTML page): $gateway_url/status
	Gateway metrics: $gateway_url/metrics
	Prometheus UI: $prometheus_url (its Alerts page, and Status → Targets)
	Nomad UI:  $nomad_ui
	Consul UI: http://$consul_addr/ui/
MSG
