# The API gateway: one per client node (a system job) on the static port 8080, so every node
# answers `curl -d '{"s":"foo"}' <node>:8080/stringsvc/uppercase` and losing a node loses only
# that node's entry point. It discovers the services and their routes (route tags) through the
# Consul agent of its own node.
#
# Like stringsvc, the binary runs with raw_exec from bin_dir (see stringsvc.nomad).

variable "bin_dir" {
  type        = string
  default     = "/vagrant/bin"
  description = "Directory on the client nodes holding the gateway binary (scripts/build.sh writes bin/)."
}

variable "port" {
  type        = number
  default     = 8080
  description = "Static port the gateway listens on."
}

variable "listen_ip" {
  type        = string
  default     = ""
  description = "Address to listen on; empty means the node's address (NOMAD_IP_http). The Vagrant cluster uses 0.0.0.0 so that the forwarded port reaches it."
}

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Nomad datacenters to run in."
}

job "gateway" {
  type        = "system"
  datacenters = var.datacenters

  # One node at a time.
  update {
    max_parallel     = 1
    min_healthy_time = "5s"
  }

  group "gateway" {
    network {
      port "http" {
        static = var.port
      }
    }

    restart {
      attempts = 10
      interval = "5m"
      delay    = "2s"
      mode     = "delay"
    }

    task "gateway" {
      driver = "raw_exec"

      config {
        command = "${var.bin_dir}/gateway"
        # An explicit -listen wins over NOMAD_IP_http/NOMAD_PORT_http.
        args = var.listen_ip == "" ? [] : ["-listen", "${var.listen_ip}:${var.port}"]
      }

      env {
        CONSUL_HTTP_ADDR = "${attr.unique.network.ip-address}:8500"
        LOG_JSON         = "true"
      }

      # SIGTERM lets in-flight requests finish (at most 10 s, -shutdown-timeout).
      kill_signal  = "SIGTERM"
      kill_timeout = "15s"

      # The gateway gives the Go runtime 90% of memory as its soft limit (NOMAD_MEMORY_LIMIT,
      # gateway/cmd/gateway/gc.go). 256 MiB holds 4,096 client connections (bench/README.md).
      resources {
        cpu    = 200
        memory = 256
      }

      logs {
        max_files     = 3
        max_file_size = 10
      }
    }
  }
}
