# Prometheus, run by Nomad like the rest: it finds what to scrape in Consul, with no target
# written down. Every service instance that declares where its metrics are (Consul service
# metadata metrics_path: each stringsvc instance, each gateway) and every Nomad agent (registered
# by Nomad itself, scripts/nomad-config.sh) is scraped as it comes and goes. An Alertmanager
# registered in Consul as "alertmanager" gets the alerts; none runs here (docs/monitoring.md).
#
# Discovery goes through Nomad's templates (consul-template, over the Nomad client's Consul
# access), which write Prometheus' file_sd target files: the distributions' Prometheus, which this
# job runs, is built without consul_sd_configs (Debian: "Disable Consul SD until its Debian
# package is back in shape"; docs/monitoring.md).
#
# The configuration, the targets' templates and the rules are the files of nomad/prometheus/,
# read by `nomad job run` (HCL's file()) into template blocks: the nodes need no copy of them, and
# a changed rule reaches Prometheus with the next `nomad job run`, by SIGHUP, without a restart.
# Nomad 1.6 reads file() paths from the directory the command runs in: run it from the
# repository's root, as `nomad job run nomad/prometheus.nomad`, or set config_dir. The rules use
# [[ ]] as template delimiters, so that Prometheus' own {{ $labels }} pass through.
#
# The binary is the node's own (Debian's and Ubuntu's prometheus package, installed by
# scripts/deps.sh here and scripts/provision-node.sh in the VMs): Nomad runs it with the exec
# driver by default, like the project's binaries.

variable "prometheus_binary" {
  type        = string
  default     = "/usr/bin/prometheus"
  description = "Absolute path of the Prometheus executable on the client nodes (/usr/bin/prometheus: the Debian/Ubuntu package)."
}

variable "config_dir" {
  type        = string
  default     = "nomad/prometheus"
  description = "Directory of prometheus.yml and the rules, absolute or relative to where `nomad job run` runs (the default fits the repository's root)."
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
  default     = 9090
  description = "Static port of Prometheus' UI and API."
}

variable "listen_ip" {
  type        = string
  default     = ""
  description = "Address to listen on; empty means the node's address. The Vagrant cluster uses 0.0.0.0 so that the forwarded port reaches it."
}

variable "scrape_interval" {
  type        = string
  default     = "15s"
  description = "How often every target is scraped and every rule evaluated (the end-to-end test uses 2s)."
}

variable "retention" {
  type        = string
  default     = "15d"
  description = "How long samples are kept (--storage.tsdb.retention.time); the data lives in the allocation's sticky data dir."
}

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Nomad datacenters to run in."
}

job "prometheus" {
  type        = "service"
  datacenters = var.datacenters

  update {
    max_parallel     = 1
    health_check     = "checks"
    min_healthy_time = "10s"
    healthy_deadline = "2m"
  }

  group "prometheus" {
    count = 1

    network {
      port "http" {
        static = var.port
      }
    }

    # The time series survive a new version of the job on the same node (sticky), and follow it
    # to another node when Nomad can copy them (migrate).
    ephemeral_disk {
      size    = 2048
      sticky  = true
      migrate = true
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    # Where Prometheus is: `nomad service info prometheus` (scripts/deploy.sh prints it). A
    # Nomad-native service, as stringsvc's deployment check: Prometheus does not scrape itself
    # through Consul.
    service {
      provider = "nomad"
      name     = "prometheus"
      port     = "http"

      check {
        type     = "http"
        path     = "/-/ready"
        interval = "5s"
        timeout  = "2s"
      }
    }

    task "prometheus" {
      driver = var.driver

      config {
        command = var.prometheus_binary
        args = [
          "--config.file=${NOMAD_TASK_DIR}/prometheus.yml",
          "--storage.tsdb.path=${NOMAD_ALLOC_DIR}/data/prometheus",
          "--storage.tsdb.retention.time=${var.retention}",
          var.listen_ip == "" ? "--web.listen-address=${NOMAD_ADDR_http}" : "--web.listen-address=${var.listen_ip}:${var.port}",
          "--web.external-url=http://${NOMAD_ADDR_http}/",
        ]
      }

      template {
        data          = file("${var.config_dir}/prometheus.yml")
        destination   = "local/prometheus.yml"
        change_mode   = "signal"
        change_signal = "SIGHUP"
      }

      template {
        data            = file("${var.config_dir}/recording.rules.yml")
        destination     = "local/rules/recording.rules.yml"
        left_delimiter  = "[["
        right_delimiter = "]]"
        change_mode     = "signal"
        change_signal   = "SIGHUP"
      }

      template {
        data            = file("${var.config_dir}/alerts.rules.yml")
        destination     = "local/rules/alerts.rules.yml"
        left_delimiter  = "[["
        right_delimiter = "]]"
        change_mode     = "signal"
        change_signal   = "SIGHUP"
      }

      # What to scrape, from Consul's catalog through the Nomad client's own Consul access
      # (consul-template's blocking queries): rendered again at every change, and reread by
      # Prometheus by itself (file_sd), so no signal. While Consul is unreachable the files stay
      # as they were, and Prometheus keeps scraping the last known targets.
      template {
        data        = file("${var.config_dir}/consul.targets.yml")
        destination = "local/targets/consul.yml"
        change_mode = "noop"
      }

      template {
        destination = "local/targets/alertmanagers.yml"
        change_mode = "noop"
        data        = <<-EOT
          {{- $listed := false }}{{ range service "alertmanager" }}{{ $listed = true }}
          - targets: ['{{ .Address }}:{{ .Port }}']
          {{- end }}
          {{ if not $listed }}[]{{ end }}
        EOT
      }

      env {
        SCRAPE_INTERVAL = var.scrape_interval
      }

      # Prometheus flushes its head block on SIGTERM; a large one takes a while.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cpu    = 200
        memory = 512
      }

      logs {
        max_files     = 3
        max_file_size = 10
      }
    }
  }
}
