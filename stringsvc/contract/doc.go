// Package contract is stringsvc's wire contract, written once and used by both sides: the
// service's HTTP transport and the gateway, which forwards to service instances.
//
// Requests are POSTed as JSON {"s": "..."}; a success answers 200 with {"v": ...}; every error,
// the service's or the gateway's own, answers a 4xx/5xx status with {"err": "..."}.
package contract
