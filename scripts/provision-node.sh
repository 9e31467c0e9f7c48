#!/usr/bin/env bash
# provision-node.sh - turn a fresh Ubuntu VM into a node of the Vagrant cluster (run by the
# Vagrantfile's shell provisioner, as root, inside the VM).
#
# Usage: provision-node.sh NAME ADDR NOMAD_VERSION CONSUL_VERSION SERVER_ADDR...
#
# Installs Nomad and Consul from HashiCorp's package repository (VERSION "latest" = the newest,
# else that exact version, held against upgrades), writes the Nomad agent configuration with
# scripts/nomad-config.sh (the same template every other setup of this project uses), bound to the
# interface that holds ADDR, and starts Nomad and the artifact server (the jobs download their
# binaries from it: scripts/artifacts.sh). Consul is NOT started here: it runs as the Nomad job
# nomad/consul.nomad; nor is Prometheus, installed for nomad/prometheus.nomad. Also writes
# /etc/gokit-nomad.env, the cluster's settings for scripts/deploy.sh and the nomad/consul CLIs,
# loaded by every login shell. Safe to run again.
set -euo pipefail

if [[ $# -lt 5 ]]; then
	sed -n '5p' "$0" >&2
	exit 2
fi
if [[ "$EUID" -ne 0 || ! -d /vagrant ]]; then
	echo "provision-node.sh: run by Vagrant inside a VM (as root, with /vagrant shared)" >&2
	exit 1
fi
name="$1" addr="$2" nomad_version="$3" consul_version="$4"
shift 4
servers=("$@")
repo_dir=/vagrant
keyring=/usr/share/keyrings/hashicorp-archive-keyring.gpg
export DEBIAN_FRONTEND=noninteractive

# package_spec NAME VERSION: what apt-get installs: NAME, or NAME=<the repository's VERSION build>.
package_spec() {
	local pkg="$1" version="$2" build
	if [[ "$version" == latest ]]; then
		echo "$pkg"
		return
	fi
	build="$(apt-cache madison "$pkg" | awk -v v="$version" '$3 ~ "^"v"(-|$)" { print $3; exit }')"
	if [[ -z "$build" ]]; then
		echo "provision-node.sh: $pkg $version is not in HashiCorp's repository for this release;" >&2
		echo "provision-node.sh: newest there: $(apt-cache madison "$pkg" | awk '{ print $3 }' | head -n 5 | tr '\n' ' ')" >&2
		echo "provision-node.sh: set ${pkg^^}_VERSION (a version, or 'latest') when running vagrant" >&2
		exit 1
	fi
	echo "$pkg=$build"
}

echo "== HashiCorp package repository"
apt-get update -q
apt-get install -y -q ca-certificates curl gpg
if [[ ! -s "$keyring" ]]; then
	curl -fsSL https://apt.releases.hashicorp.com/gpg | gpg --dearmor -o "$keyring"
fi
# shellcheck source=/dev/null # the VM's os-release
codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
echo "deb [signed-by=$keyring] https://apt.releases.hashicorp.com $codename main" \
	>/etc/apt/sources.list.d/hashicorp.list
apt-get update -q

echo "== Nomad $nomad_version and Consul $consul_version"
apt-mark unhold nomad consul >/dev/null 2>&1 || true
nomad_pkg="$(package_spec nomad "$nomad_version")"
consul_pkg="$(package_spec consul "$consul_version")"
apt-get install -y -q --allow-downgrades "$nomad_pkg" "$consul_pkg"
apt-mark hold nomad consul >/dev/null
# Consul runs as a Nomad job, not as the package's systemd service.
systemctl disable --now consul.service >/dev/null 2>&1 || true

echo "== Prometheus (the binary of the Nomad job nomad/prometheus.nomad)"
apt-get install -y -q --no-install-recommends prometheus
# The job runs it; the package's own service would hold the job's port 9090.
systemctl disable --now prometheus.service >/dev/null 2>&1 || true

echo "== Nomad agent $name on $addr"
iface="$(ip -o -4 addr show | awk -v a="$addr" '$4 ~ "^"a"/" { print $2; exit }')"
if [[ -z "$iface" ]]; then
	echo "provision-node.sh: no interface has the address $addr" >&2
	exit 1
fi
mkdir -p /etc/nomad.d /opt/nomad/data
NOMAD_HTTP_BIND=0.0.0.0 "$repo_dir/scripts/nomad-config.sh" node "$name" "$addr" "$iface" \
	/opt/nomad/data "${#servers[@]}" "${servers[@]}" >/etc/nomad.d/nomad.hcl
nomad config validate /etc/nomad.d/nomad.hcl
mkdir -p /etc/systemd/system/nomad.service.d
printf '[Service]\nEnvironment=CHECKPOINT_DISABLE=1\n' >/etc/systemd/system/nomad.service.d/gokit-nomad.conf
systemctl daemon-reload
systemctl enable nomad.service
systemctl restart nomad.service

echo "== artifact server (the release store /vagrant/bin/releases on 127.0.0.1:8070)"
# scripts/deploy.sh, run on any node, publishes the host's build to the store on the /vagrant
# share; every node's Nomad client downloads the jobs' binaries from its own server.
cat >/etc/systemd/system/gokit-nomad-artifacts.service <<-EOF
	[Unit]
	Description=gokit-nomad release store for Nomad's artifact downloads (scripts/artifacts.sh)
	After=network.target

	[Service]
	ExecStartPre=/usr/bin/mkdir -p $repo_dir/bin/releases
	ExecStart=$repo_dir/bin/artifact-server -dir $repo_dir/bin/releases -listen 127.0.0.1:8070 -log-json
	User=nobody
	NoNewPrivileges=yes
	Restart=always

	[Install]
	WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable gokit-nomad-artifacts.service
systemctl restart gokit-nomad-artifacts.service

echo "== cluster settings (/etc/gokit-nomad.env)"
{
	"$repo_dir/scripts/nomad-config.sh" env "$addr" "${servers[@]}"
	echo "export NOMAD_VAR_consul_binary=/usr/bin/consul"
	echo "export NOMAD_VAR_client_addr=0.0.0.0"
	echo "export NOMAD_VAR_listen_ip=0.0.0.0"
} >/etc/gokit-nomad.env
echo ". /etc/gokit-nomad.env" >/etc/profile.d/gokit-nomad.sh
echo "provision-node.sh: $name ready (Nomad at http://$addr:4646)"
