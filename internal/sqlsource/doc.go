// Package sqlsource exports a ZipSync archive from an SQL database
// (PostgreSQL, MySQL/MariaDB, SQL Server or SQLite, through database/sql
// and pure-Go drivers): one configured query per DS file, whose result
// column names are the file's column names. Rows stream from the query to
// the archive writer.
//
// It must never write to the database it reads, never hold a whole result
// in memory, and never put the DSN (which may hold a password) in an error
// or a log. Any query error, unknown column or cut-short result is an
// error: the caller then writes no archive.
package sqlsource
