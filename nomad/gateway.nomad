# The API gateway: one per client node (a system job) on the static port 8080, so every node
# answers `curl -d '{"s":"foo"}' <node>:8080/stringsvc/uppercase` and losing a node loses only
# that node's entry point. It discovers the services and their routes (route tags) through the
# Consul agent of its own node.
#
# Like stringsvc, the binary arrives as a checksummed artifact and runs with the exec driver (see
# stringsvc.nomad).

variable "artifact_url" {
  type        = string
  description = "URL of the release folder holding gateway (and SHA256SUMS): http(s), e.g. a release page or an object store; scripts/artifacts.sh serves a local one."
}

variable "gateway_sha256" {
  type        = string
  description = "sha256 of the gateway binary of that release (its SHA256SUMS line): Nomad refuses a download that does not match."

  validation {
    condition     = regex_replace(var.gateway_sha256, "^[0-9a-f]{64}$", "") == ""
    error_message = "The gateway_sha256 must be 64 lowercase hex digits."
  }
}

variable "driver" {
  type        = string
  default     = "exec"
  description = "Task driver: exec (chroot and cgroups; the Nomad client must run as root) or raw_exec (no isolation, for a client that is not root)."

  validation {
    condition     = contains(["exec", "raw_exec"], var.driver)
    error_message = "The driver must be exec or raw_exec."
  }
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
      driver = var.driver

      artifact {
        source      = "${var.artifact_url}/gateway"
        destination = "local/"
        options {
          checksum = "sha256:${var.gateway_sha256}"
        }
      }

      config {
        command = "${NOMAD_TASK_DIR}/gateway"
        # An explicit -listen wins over NOMAD_IP_http/NOMAD_PORT_http.
        args = var.listen_ip == "" ? [] : ["-listen", "${var.listen_ip}:${var.port}"]
      }

      # The gateway's Consul ACL token, from the Nomad Variable nomad/jobs/gateway (item consul_token),
      # which only this job's tasks may read: never in the job file. Without that variable (a Consul
      # without ACLs) nothing is rendered; writing it later restarts the task with the token.
      template {
        destination = "secrets/consul-token.env"
        env         = true
        data        = <<-EOT
          {{ range nomadVarList "nomad/jobs/gateway" }}{{ if eq .Path "nomad/jobs/gateway" }}{{ with nomadVar .Path }}
          CONSUL_HTTP_TOKEN={{ .consul_token }}
          {{ end }}{{ end }}{{ end }}
        EOT
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
