# stringsvc: three instances on dynamic ports, each registering itself in Consul.
#
# The binary registers through go-kit's sd/consul registrar (with an HTTP health check) at
# NOMAD_IP_http:NOMAD_PORT_http under the ID stringsvc-<NOMAD_ALLOC_ID>, so this job has no
# Consul `service` block: a second registration per instance would double its weight in the
# gateway (its one service block is Nomad's own, for deployment health).
# On SIGTERM an instance deregisters, keeps serving for its drain period, then exits: the gateway
# stops routing to it before it goes away.
#
# The binary arrives as an artifact: Nomad downloads ${artifact_url}/stringsvc into the task's
# local/ dir and checks it against stringsvc_sha256 before the task starts (a mismatch fails the
# allocation with a "Failed Artifact Download" event; the binary never runs, so it never registers
# and nothing is routed to it). It runs with the exec driver: chrooted, as the user nobody, in its
# own cgroups. scripts/deploy.sh passes the release's URL and checksums (docs/nomad.md).

variable "artifact_url" {
  type        = string
  description = "URL of the release folder holding stringsvc (and SHA256SUMS): http(s), e.g. a release page or an object store; scripts/artifacts.sh serves a local one."
}

variable "stringsvc_sha256" {
  type        = string
  description = "sha256 of the stringsvc binary of that release (its SHA256SUMS line): Nomad refuses a download that does not match."

  validation {
    condition     = regex_replace(var.stringsvc_sha256, "^[0-9a-f]{64}$", "") == ""
    error_message = "The stringsvc_sha256 must be 64 lowercase hex digits."
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

  # Canary deploys. A new version starts one canary beside the running allocations; once it is
  # healthy it is promoted by itself (auto_promote) and the rest are replaced one at a time.
  # "Healthy" is health_check = "checks": the Nomad-native check below passes for
  # min_healthy_time, i.e. the instance answers /health, not only runs. An allocation that is not
  # healthy within healthy_deadline (or fails) fails the whole deployment at once
  # (progress_deadline = 0: no rescheduling within a deployment, which would keep a bad release
  # half-deployed), and the job is reverted to the last stable version (auto_revert): a bad
  # canary's old allocations were never stopped, so the gateway kept all of them. A good instance
  # passes seconds after it starts; the exec driver's chroot takes ~25 s of the minute on a busy
  # 2-core node.
  update {
    max_parallel      = 1
    canary            = 1
    auto_promote      = true
    auto_revert       = true
    health_check      = "checks"
    min_healthy_time  = "5s"
    healthy_deadline  = "1m"
    progress_deadline = "0"
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

    # Nomad's own view of the instance's health, for the deployment only: provider "nomad" keeps
    # it out of Consul, where the binary registers itself (a second Consul registration would
    # double the instance's weight in the gateway).
    service {
      provider = "nomad"
      name     = "stringsvc"
      port     = "http"

      check {
        type     = "http"
        path     = "/health"
        interval = "2s"
        timeout  = "1s"
      }
    }

    task "stringsvc" {
      driver = var.driver

      artifact {
        source      = "${var.artifact_url}/stringsvc"
        destination = "local/"
        options {
          checksum = "sha256:${var.stringsvc_sha256}"
        }
      }

      config {
        # local/ of the task dir: /local inside exec's chroot, the host path with raw_exec.
        command = "${NOMAD_TASK_DIR}/stringsvc"
      }

      # The instance's Consul ACL token, from the Nomad Variable nomad/jobs/stringsvc (item consul_token),
      # which only this job's tasks may read: never in the job file. Without that variable (a Consul
      # without ACLs) nothing is rendered; writing it later restarts the task with the token.
      template {
        destination = "secrets/consul-token.env"
        env         = true
        data        = <<-EOT
          {{ range nomadVarList "nomad/jobs/stringsvc" }}{{ if eq .Path "nomad/jobs/stringsvc" }}{{ with nomadVar .Path }}
          CONSUL_HTTP_TOKEN={{ .consul_token }}
          {{ end }}{{ end }}{{ end }}
        EOT
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
