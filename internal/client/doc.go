// Package client is the HTTP client of epicd's API as the epic command
// line uses it: its configuration (a TOML file, environment variables and
// flags), HTTPS that trusts the system's roots plus a configured CA or
// self-signed certificate, HTTP Basic authentication, retries of idempotent
// requests, streamed uploads of archives, and the JSON shapes of
// interfaces.md §3.
//
// It must never retry an upload whose request had already reached the
// service (a second copy would queue a second job), never print or log a
// password, and never import the service's packages: it knows the service
// only through its HTTP API.
package client
