#!/usr/bin/env bash
# nomad-config.sh - print the Nomad agent configuration of one node (HCL) to stdout.
#
# Usage: scripts/nomad-config.sh dev  DATA_DIR
#            config for `nomad agent -dev` on 127.0.0.1 (the Nomad end-to-end test)
#        scripts/nomad-config.sh node NAME ADDR INTERFACE DATA_DIR SERVERS JOIN_ADDR...
#            a server+client node of a SERVERS-node cluster (the Vagrant VMs, scripts/cluster.sh,
#            scripts/dev.sh: a cluster of one)
#        scripts/nomad-config.sh env ADDR SERVER_ADDR...
#            the exports that point the CLIs and scripts/deploy.sh at node ADDR of that cluster
#            (its job variables: one Consul server per SERVER_ADDR, joining each other)
#
# Optional environment:
#   NOMAD_HTTP_BIND      address of the HTTP API and UI (default ADDR; the Vagrant VMs use 0.0.0.0
#                        so that the forwarded port reaches it; RPC and gossip stay on ADDR)
#   NOMAD_CGROUP_PARENT  absolute cgroup parent of the client's tasks (several clients on one host,
#                        or a name of the caller's own that it removes afterwards)
#
# Every node gets the same safety settings: update check off, the cloud fingerprinters (which would
# contact 169.254.169.254) denied, raw_exec on (the jobs run the project's binaries from a path the
# node sees), and Nomad's own Consul integration limited to the node's agent. Through it Nomad
# registers only its own agents (auto_advertise: "nomad", "nomad-client"), so that Prometheus finds
# their metrics (telemetry below; nomad/prometheus.nomad); the jobs register through go-kit.
set -euo pipefail

usage() {
	sed -n '3,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# common ADDR INTERFACE [CLIENT_LINE...]: the settings every node shares; non-empty CLIENT_LINEs go
# into the client block.
common() {
	local addr="$1" iface="$2" line
	shift 2
	cat <<-EOF
		disable_update_check = true
		bind_addr            = "$addr"

		client {
		  enabled           = true
		  network_interface = "$iface"
		  options = {
		    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
		  }
	EOF
	for line in "$@"; do [[ -z "$line" ]] || echo "  $line"; done
	cat <<-EOF
		}

		plugin "raw_exec" {
		  config {
		    enabled = true
		  }
		}

		consul {
		  address          = "$addr:8500"
		  auto_advertise   = true
		  server_auto_join = false
		  client_auto_join = false
		}

		telemetry {
		  prometheus_metrics         = true
		  publish_allocation_metrics = true
		  publish_node_metrics       = true
		  disable_hostname           = true
		}
	EOF
}

dev() {
	[[ $# -eq 1 ]] || usage
	# -dev keeps the server's state in memory; the client's dirs go under DATA_DIR, which the
	# caller removes afterwards.
	# A dev agent stops its server before its client: templates still watching a Nomad Variable
	# then retry the gone server with Nomad's default retry (12 attempts, up to 1 min apart), and
	# once (after the end-to-end test's checksum mismatch) that held the shutdown past 30 s. Give
	# up after ~4 s instead; a dev agent's server is never away otherwise.
	common 127.0.0.1 lo "state_dir = \"$1/client\"" "alloc_dir = \"$1/alloc\"" "$(cgroup_parent_line)" \
		'template { nomad_retry { attempts = 4, backoff = "250ms", max_backoff = "2s" } }'
}

# cgroup_parent_line prints the client's cgroup_parent setting when NOMAD_CGROUP_PARENT is set.
cgroup_parent_line() {
	if [[ -n "${NOMAD_CGROUP_PARENT:-}" ]]; then
		echo "cgroup_parent = \"$NOMAD_CGROUP_PARENT\""
	fi
}

node() {
	[[ $# -ge 6 ]] || usage
	local name="$1" addr="$2" iface="$3" data="$4" servers="$5" join=""
	shift 5
	join="$(printf '"%s", ' "$@")"
	join="${join%, }"
	cat <<-EOF
		name     = "$name"
		data_dir = "$data"

	EOF
	common "$addr" "$iface" "$(cgroup_parent_line)"
	cat <<-EOF

		addresses {
		  http = "${NOMAD_HTTP_BIND:-$addr}"
		}

		advertise {
		  http = "$addr"
		  rpc  = "$addr"
		  serf = "$addr"
		}

		server {
		  enabled          = true
		  bootstrap_expect = $servers
		  # How long a newly elected leader waits for every client's first heartbeat before it
		  # marks the client down and replaces its allocations. Nomad's default, 5m, is sized for
		  # thousands of clients reconnecting at once; with it, losing the leader's own node left
		  # that node's allocations unreplaced for 5 minutes. A few clients need seconds.
		  failover_heartbeat_ttl = "30s"
		  server_join {
		    retry_join = [$join]
		  }
		}
	EOF
}

cluster_env() {
	[[ $# -ge 2 ]] || usage
	local addr="$1" join
	shift
	join="$(printf '"%s",' "$@")"
	cat <<-EOF
		export NOMAD_ADDR=http://$addr:4646
		export CONSUL_HTTP_ADDR=$addr:8500
		export GATEWAY_URL=http://$addr:8080
		export NOMAD_VAR_servers=$#
		export NOMAD_VAR_retry_join='[${join%,}]'
	EOF
}

case "${1:-}" in
dev) shift && dev "$@" ;;
node) shift && node "$@" ;;
env) shift && cluster_env "$@" ;;
*) usage ;;
esac
