// Package systemtest holds the end-to-end tests of stringsvc and the gateway as processes: against
// a real Consul agent; deployed with scripts/deploy.sh on a real Nomad agent that runs Consul itself
// as a job (TestNomadEndToEnd); and as container images on a dockerd of the test's own
// (TestContainerImages). They are built with the "integration" tag and must run
// inside a loopback-only network namespace: scripts/test.sh system builds the binaries, Consul and
// Nomad, then runs them there. The binaries come from CONSUL_BIN, NOMAD_BIN, STRINGSVC_BIN and
// GATEWAY_BIN.
package systemtest
