// Package engine applies one ZipSync archive to one company's directory,
// exactly as processing.md §2–§5 says: dependency order, upserts by
// external key, adoption, removals, mirror sweep, device names to ignore,
// cascades, and a report with an outcome for every input row, all in one
// Store transaction. It reads archives through package archive and writes
// through directory.Store; it never speaks SQL or HTTP.
package engine
