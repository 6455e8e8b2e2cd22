// Package postgres is the directory.Store kept in PostgreSQL, for several
// epicd instances sharing one database. It owns its SQL and its schema:
// the migrations under migrations/ are embedded, and Open applies them with
// goose under a session advisory lock of its own, so instances starting
// together migrate once and an opened Store always has the current schema.
//
// Each Update is one READ COMMITTED transaction that first takes a
// transaction-level advisory lock on the company (LockClass), so two
// instances never change one company at once, while different companies
// change in parallel; a View is a REPEATABLE READ READ ONLY transaction,
// one snapshot from its first read, that no Update waits for. Iterations
// read through cursors a batch at a time, so their callbacks may use the
// transaction.
//
// Writes are made for large batches: inserts go through COPY, updates
// through COPY into a temporary table and one UPDATE … FROM, deletes
// through = ANY(uuid[]); calls of a few objects are sent as one statement
// a row in a single round trip. A write that fails aborts the transaction
// and Update fails with its error.
//
// The package keeps rows; it never decides what changes (that is the
// engine's), and nothing but the stores' callers imports it.
package postgres
