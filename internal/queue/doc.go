// Package queue is the intake and the batch run of processing.md §1–§2:
// Intake checks an uploaded archive's archive-level rules and stores it
// with a QUEUED job, durably, before anyone answers the upload; RunBatch
// applies, for each company, only its newest queued job and supersedes the
// older ones; Run is the scheduler that runs batches every interval and on
// demand.
//
// A company is processed by one run at a time, across processes too: the
// Store's Claim (a session advisory lock on PostgreSQL, a flock beside the
// SQLite database) is held for the whole processing. A job left PROCESSING
// by a run that died is queued again by the next run that claims its
// company (docs/queue.md).
//
// The package never speaks SQL or HTTP and never changes a directory
// itself: the engine applies, the Store keeps.
package queue
