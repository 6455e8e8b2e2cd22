// Package e2e holds the end-to-end tests of epic: they build the real epic
// and epicd binaries, run `epicd serve` over HTTPS on loopback with the
// embedded SQLite store and with PostgreSQL, and drive it with `epic` and
// plain HTTP the way an administrator's scripts do. It has no code of its
// own besides these tests, and must never be imported.
package e2e
