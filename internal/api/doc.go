// Package api is epicd's HTTP API (interfaces.md §3): uploads of archives
// into the queue, import jobs with their reports, and read access to a
// company's directory in the shape of the xMatters REST API v1, with HTTP
// Basic authentication of API users, JSON errors, pagination, Prometheus
// metrics and health checks.
//
// The package only reads the directory and hands uploads to an Intaker: it
// never changes a directory, never applies an archive and never runs a
// batch. Every request acts in the company of its user; an object of
// another company is answered exactly as one that does not exist.
package api
