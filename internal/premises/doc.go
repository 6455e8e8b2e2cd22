// Package premises reads the directory of one company straight from the
// database of a premises epicd (its SQLite file or its PostgreSQL
// database), in one read-only snapshot, and writes it as a mirror archive:
// the source of epic cloudsync, which keeps a hosted epicd in step with a
// premises one.
//
// It knows the premises schema (the migrations of internal/sqlite and
// internal/postgres, by goose version) and refuses any version it was not
// written for. It must never write to the premises database, never read it
// outside one snapshot, and never put a database password in an error.
package premises
