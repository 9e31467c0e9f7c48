# stringsvc: three instances on dynamic ports, each registering itself in Consul.
#
# The binary registers through go-kit's sd/consul registrar (with an HTTP health check) at
# NOMAD_IP_http:NOMAD_PORT_http under the ID stringsvc-<NOMAD_ALLOC_ID>, so this job has no
# `service` block: a second registration per instance would double its weight in the gateway.
# On SIGTERM an instance deregisters, keeps serving for its drain period, then exits: the gateway
# stops routing to it before it goes away.
#
# The binary reaches the nodes without a registry: raw_exec runs it from bin_dir, a path every
# client node sees (the repository's bin/ locally, /vagrant/bin in the Vagrant cluster).

variable "bin_dir" {
  type        = string
  default     = "/vagrant/bin"
  description = "Directory on the client nodes holding the stringsvc binary (scripts/build.sh writes bin/)."
}

variable "instances" {
  type        = number
  default     = 3
  description = "Number of stringsvc allocations."
}

variable "release" {
  type        = string
  default     = "1"
  description = "Free-form release label, kept in the job's meta: changing it rolls every allocation."
}

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Nomad datacenters to run in."
}

job "stringsvc" {
  type        = "service"
  datacenters = var.datacenters

  meta {
    release = var.release
  }

  # Rolling deploys, one allocation at a time. Health is "task_states": the task has run for
  # min_healthy_time, enough for it to register and pass its 1 s Consul check (the registration
  # is done by the binary, so Nomad has no Consul check of its own to wait for). A deployment
  # that does not become healthy is rolled back to the last good version.
  update {
    max_parallel      = 1
    health_check      = "task_states"
    min_healthy_time  = "5s"
    healthy_deadline  = "1m"
    progress_deadline = "3m"
    auto_revert       = true
  }

  group "stringsvc" {
    count = var.instances

    # Prefer different nodes, so that losing one node loses one instance.
    spread {
      attribute = "${node.unique.id}"
    }

    network {
      port "http" {}
    }

    # Restart in place a few times, then fail the allocation and let it be rescheduled.
    restart {
      attempts = 3
      interval = "1m"
      delay    = "2s"
      mode     = "fail"
    }

    reschedule {
      delay          = "5s"
      delay_function = "exponential"
      max_delay      = "1m"
      unlimited      = true
    }

    task "stringsvc" {
      driver = "raw_exec"

      config {
        command = "${var.bin_dir}/stringsvc"
      }

      env {
        # The Consul agent of this node (consul.nomad binds it to the node's address).
        CONSUL_HTTP_ADDR = "${attr.unique.network.ip-address}:8500"
        STRINGSVC_DRAIN  = "3s"
        LOG_JSON         = "true"
      }

      # SIGTERM starts deregister + drain (3 s) + graceful shutdown (at most 10 s): kill_timeout
      # must be longer, or Nomad sends SIGKILL mid-drain.
      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      resources {
        cpu    = 100
        memory = 64
      }

      logs {
        max_files     = 3
        max_file_size = 10
      }
    }
  }
}
