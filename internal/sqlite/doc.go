// Package sqlite is the embedded default directory.Store: one SQLite
// database file (pure Go, modernc.org/sqlite) in WAL mode that needs no
// server. It owns its SQL and its schema migrations (migrations/*.sql,
// embedded and applied with goose by Open, so an opened Store always has
// the current schema).
//
// SQLite has one writer at a time: every Update (and every other write)
// takes the Store's write lock and runs in one BEGIN IMMEDIATE
// transaction, while Views read snapshots in their own read transactions
// beside it. Batches are written with statements prepared once per
// transaction.
//
// The package keeps rows; it never decides what changes (that is the
// engine's) and never reaches past the database file it was given.
package sqlite
