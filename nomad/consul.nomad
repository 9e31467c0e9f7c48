# Consul, run by Nomad itself: one Consul server on every client node (a system job).
#
# Single node (scripts/dev.sh): the defaults give one server that elects itself (servers = 1).
# Three nodes (Vagrant, scripts/cluster.sh): servers = 3 and retry_join = the three node addresses
# form one quorum. Each agent binds the node's own address (attr.unique.network.ip-address, which
# follows the Nomad client's network_interface), so gossip and RPC stay on the private network.
#
# Plain client-side discovery: no Connect, no DNS interface (ports.dns = -1); services and the
# gateway use the HTTP API of the Consul agent on their own node.

variable "consul_binary" {
  type        = string
  default     = "/usr/bin/consul"
  description = "Absolute path of the Consul executable on the client nodes (/usr/bin/consul: HashiCorp's Debian package)."
}

variable "servers" {
  type        = number
  default     = 1
  description = "bootstrap_expect: how many Consul servers form the quorum (1 for a single node, 3 for the clusters)."
}

variable "retry_join" {
  type        = list(string)
  default     = []
  description = "Addresses of the other Consul servers to join (their node addresses); empty on a single node."
}

variable "client_addr" {
  type        = string
  default     = ""
  description = "Address of Consul's HTTP API; empty means the node's address. The Vagrant cluster uses 0.0.0.0 so that the forwarded port reaches the UI."
}

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Nomad datacenters to run in."
}

job "consul" {
  type        = "system"
  datacenters = var.datacenters

  # One server at a time, and only after the previous one has run for a while: a rolling change
  # never takes two servers of a 3-server quorum away together.
  update {
    max_parallel     = 1
    min_healthy_time = "15s"
  }

  group "consul" {
    # Static ports, declared so that Nomad never gives them to another allocation on the node.
    network {
      port "http" {
        static = 8500
      }
      port "server" {
        static = 8300
      }
      port "serf_lan" {
        static = 8301
      }
      port "serf_wan" {
        static = 8302
      }
    }

    # The Raft data lives in the allocation dir; a sticky disk hands it to the replacement
    # allocation on the same node, so a restarted server keeps its state.
    ephemeral_disk {
      sticky  = true
      migrate = false
      size    = 300
    }

    restart {
      attempts = 10
      interval = "5m"
      delay    = "5s"
      mode     = "delay"
    }

    task "consul" {
      driver = "raw_exec"

      config {
        command = var.consul_binary
        args    = ["agent", "-config-file", "${NOMAD_TASK_DIR}/consul.hcl", "-config-file", "${NOMAD_SECRETS_DIR}/acl.hcl"]
      }

      env {
        CHECKPOINT_DISABLE = "1"
      }

      template {
        destination = "local/consul.hcl"
        # Rendered on the node: node name and address come from the Nomad client. A server
        # that stops (restart, rolling update) does not leave: it stays a raft peer, so the
        # quorum still counts it when it comes back.
        data = <<-EOT
          node_name            = "{{ env "node.unique.name" }}"
          data_dir             = "{{ env "NOMAD_ALLOC_DIR" }}/data/consul"
          server               = true
          bootstrap_expect     = ${var.servers}
          retry_join           = ${jsonencode(var.retry_join)}
          bind_addr            = "{{ env "attr.unique.network.ip-address" }}"
          client_addr          = "{{ or "${var.client_addr}" (env "attr.unique.network.ip-address") }}"
          disable_update_check = true
          ui_config {
            enabled = true
          }
          ports {
            dns = -1
          }
          leave_on_terminate = false
        EOT
      }

      # ACLs, when the Nomad Variable nomad/jobs/consul exists (only this job's tasks may read it):
      # default deny, its item management_token as the initial management token and, if set,
      # agent_token as the agent's own. Without the variable the file is empty: no ACLs. The
      # tokens never appear in the job file (docs/nomad.md: Consul ACLs).
      template {
        destination = "secrets/acl.hcl"
        data        = <<-EOT
          {{ range nomadVarList "nomad/jobs/consul" }}{{ if eq .Path "nomad/jobs/consul" }}{{ with nomadVar .Path }}
          acl {
            enabled                  = true
            default_policy           = "deny"
            enable_token_persistence = true
            tokens {
              initial_management = "{{ .management_token }}"
              {{ with .agent_token }}agent = "{{ . }}"{{ end }}
            }
          }
          {{ end }}{{ end }}{{ end }}
        EOT
      }

      # Consul leaves cleanly on SIGINT; give a server time to hand off.
      kill_signal  = "SIGINT"
      kill_timeout = "20s"

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
