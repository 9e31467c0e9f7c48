// Package platform is the home of the packages both binaries share, the gateway and stringsvc
// (its subpackages; this one holds nothing else): flags with environment defaults (flagenv),
// go-kit logging on hclog (hclogkit), gentle connection close (linger), request IDs (requestid),
// Consul ACL refusals (consulacl), and the tests' shared helpers (testkit, imported by tests
// only: scripts/test.sh fails if a binary links it).
//
// It sits under stringsvc/ because the repository's top level is fixed; nothing in it knows
// stringsvc's contract or its service.
package platform
