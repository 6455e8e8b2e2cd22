package directory

import (
	"context"
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
