package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Queue keeps uploaded archives until a batch run applies them
// (processing.md §1–§2). Every method is safe for concurrent use, also by
// several processes on one database.
type Queue interface {
	// Enqueue stores j, which must be QUEUED, and its archive in one
	// transaction, committed durably before it returns: a crash after
	// Enqueue returns never loses the archive. A company that does not
	// exist is ErrNotFound; a job ID that is taken is ErrExists.
	Enqueue(ctx context.Context, j *Job, archive []byte) error
	// Pending returns the companies that have QUEUED or PROCESSING jobs,
	// in no particular order.
	Pending(ctx context.Context) ([]uuid.UUID, error)
	// Claim takes the company's queue lock without waiting. It returns a
	// nil Claim (and a nil error) when another run holds it, in this
	// process or in another one. The lock lasts until Release, or until
	// the process (or its database session) ends, whichever comes first:
	// a run killed with kill -9 leaves no lock behind.
	Claim(ctx context.Context, company uuid.UUID) (Claim, error)
	// Decide ends the wait of a HELD job (processing.md §6) in one
	// transaction: approve sets it QUEUED again with an APPROVED detail
	// (Approved reports it), so the next batch run applies it as it is;
	// reject ends it REJECTED and deletes its archive. Updated (and
	// Finished on reject) = now. A job of another status is ErrNotHeld,
	// a missing one ErrNotFound.
	Decide(ctx context.Context, company, job uuid.UUID, approve bool, by string, now time.Time) (*Job, error)
}

// ErrNotHeld is wrapped by Decide's error for a job that is not HELD.
var ErrNotHeld = errors.New("not HELD")

// EventApproved is the event of the detail that Decide adds to an
// approved job; EventSafetyLimit the one of the details of a HELD job.
const (
	EventApproved    = "APPROVED"
	EventSafetyLimit = "SAFETY_LIMIT"
)

// Approved reports whether an administrator approved the job since it was
// last held: its last detail is Decide's APPROVED one.
func (j *Job) Approved() bool {
	return len(j.Details) > 0 && j.Details[len(j.Details)-1].Event == EventApproved
}

// DecideJob is Decide's change to a job read in its transaction: it
// returns ErrNotHeld unless the job is HELD.
func DecideJob(j *Job, approve bool, by string, now time.Time) error {
	if j.Status != JobHeld {
		return fmt.Errorf("job %s is %s: %w", j.ID, j.Status, ErrNotHeld)
	}
	j.Updated = now
	if approve {
		j.Status = JobQueued
		j.Details = append(j.Details, Detail{Synchronizer: "SAFETY", Event: EventApproved, Status: "WARNING", Level: "ARCHIVE",
			Time: now, Message: "approved by " + by + ": the job is applied as it is by the next batch run"})
		return nil
	}
	j.Status, j.Finished = JobRejected, now
	j.Details = append(j.Details, Detail{Synchronizer: "SAFETY", Event: "REJECTED", Status: "WARNING", Level: "ARCHIVE",
		Time: now, Message: "rejected by " + by + ": nothing was changed"})
	return nil
}

// Claim is one run's exclusive hold on one company's queue. While a run
// holds it, no other run takes a job of that company: so every PROCESSING
// job of the company is an orphan of a run that died.
type Claim interface {
	// Requeue sets every PROCESSING job of the company QUEUED again
	// (Updated = now) and returns how many there were.
	Requeue(ctx context.Context, now time.Time) (int, error)
	// Take does in one transaction: Requeue; pick the newest QUEUED job of
	// the company (greatest Started, ties by greater ID); end every older
	// QUEUED job SUPERSEDED with SupersededBy = the newest (Updated and
	// Finished = now); set the newest PROCESSING (Updated = now); delete
	// the archives of the company's jobs that have ended (any status but
	// QUEUED, PROCESSING and HELD). It returns the newest job with its
	// archive, or a nil Taken when the company has no queued job.
	Take(ctx context.Context, now time.Time) (*Taken, error)
	// DropArchive deletes the archive of a job that has ended; a job
	// without an archive is not an error.
	DropArchive(ctx context.Context, job uuid.UUID) error
	// Lost is closed when the lock is lost before Release (the database
	// session that held it ended): the run must stop, since another may
	// take the company now. Stores whose locks cannot be lost while the
	// process lives return a channel that is never closed.
	Lost() <-chan struct{}
	// Release gives the lock back. It is safe to call more than once.
	Release() error
}

// Taken is what Claim.Take took: the job, now PROCESSING, and its archive.
type Taken struct {
	Job        *Job
	Archive    []byte      // nil when the job's archive is missing
	Superseded []uuid.UUID // the older queued jobs that Take superseded
	Requeued   int         // PROCESSING jobs (orphans) Take queued again first
}
