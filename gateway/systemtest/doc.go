// Package systemtest holds the end-to-end tests of stringsvc and the gateway as processes, against
// a real Consul agent. They are built with the "integration" tag and must run inside a
// loopback-only network namespace: scripts/test.sh system builds the binaries and a Consul agent,
// then runs them there. The binaries come from CONSUL_BIN, STRINGSVC_BIN and GATEWAY_BIN.
package systemtest
