package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// The queue keeps archives in the table archives, committed with their
// QUEUED job. A company's queue lock is an exclusive flock(2) on the file
// LOCKS/COMPANY-ID.lock beside the database (LOCKS being the database's
// path with "-queue-locks" appended): the kernel drops it when the process
// ends, however it ends, so a run killed with kill -9 leaves no lock, and
// two epicd processes on one data folder exclude each other too. Lock
// files are never removed: removing one while another process opens it
// would let two processes lock two different files of one name.

// Enqueue implements directory.Queue.
func (s *Store) Enqueue(ctx context.Context, j *directory.Job, archive []byte) error {
	if err := checkEnqueue(j, archive); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := companyExists(ctx, tx, j.CompanyID); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE id = ?`, blob(j.ID)).Scan(&one)
		if err == nil {
			return fmt.Errorf("job %s: %w", j.ID, directory.ErrExists)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := saveJob(ctx, tx, j); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO archives (job_id, company_id, data) VALUES (?, ?, ?)`,
			blob(j.ID), blob(j.CompanyID), archive)
		return err
	})
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", j.ID, mapErr(err))
	}
	return nil
}

// checkEnqueue is what Enqueue asks of its arguments.
func checkEnqueue(j *directory.Job, archive []byte) error {
	switch {
	case j.ID == uuid.Nil:
		return fmt.Errorf("enqueue: the job has no ID")
	case j.Status != directory.JobQueued:
		return fmt.Errorf("enqueue job %s: status %s, want %s", j.ID, j.Status, directory.JobQueued)
	case j.Started.IsZero():
		return fmt.Errorf("enqueue job %s: no Started (intake) time", j.ID)
	case len(archive) == 0:
		return fmt.Errorf("enqueue job %s: empty archive", j.ID)
	}
	return nil
}

// Pending implements directory.Queue.
func (s *Store) Pending(ctx context.Context) ([]uuid.UUID, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT company_id FROM jobs WHERE status IN ('QUEUED', 'PROCESSING')`)
	if err != nil {
		return nil, fmt.Errorf("pending companies: %w", err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("pending companies: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending companies: %w", err)
	}
	return out, nil
}

// Claim implements directory.Queue.
func (s *Store) Claim(ctx context.Context, company uuid.UUID) (directory.Claim, error) {
	dir := s.path + "-queue-locks"
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("claim company %s: %w", company, err)
	}
	unlock, ok, err := tryLock(dir, company.String()+".lock")
	if err != nil {
		return nil, fmt.Errorf("claim company %s: %w", company, err)
	}
	if !ok {
		return nil, nil
	}
	return &claim{s: s, company: company, unlock: unlock, lost: make(chan struct{})}, nil
}

type claim struct {
	s       *Store
	company uuid.UUID
	unlock  func() error
	once    sync.Once
	err     error
	lost    chan struct{} // never closed: a flock lasts as long as the process
}

var _ directory.Claim = (*claim)(nil)

func (c *claim) Lost() <-chan struct{} { return c.lost }

func (c *claim) Release() error {
	c.once.Do(func() { c.err = c.unlock() })
	return c.err
}

func requeue(ctx context.Context, tx *sql.Tx, company uuid.UUID, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'QUEUED', updated = ?
		WHERE company_id = ? AND status = 'PROCESSING'`, nanos(now), blob(company))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (c *claim) Requeue(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := c.s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = requeue(ctx, tx, c.company, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue jobs of company %s: %w", c.company, err)
	}
	return n, nil
}

func (c *claim) Take(ctx context.Context, now time.Time) (*directory.Taken, error) {
	var t *directory.Taken
	err := c.s.write(ctx, func(tx *sql.Tx) error {
		t = nil
		co := blob(c.company)
		requeued, err := requeue(ctx, tx, c.company, now)
		if err != nil {
			return err
		}
		var (
			id      uuid.UUID
			started int64
		)
		err = tx.QueryRowContext(ctx, `SELECT id, started FROM jobs WHERE company_id = ? AND status = 'QUEUED'
			ORDER BY started DESC, id DESC LIMIT 1`, co).Scan(&id, &started)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			t = &directory.Taken{Requeued: requeued}
			rows, err := tx.QueryContext(ctx, `UPDATE jobs SET status = 'SUPERSEDED', superseded_by = ?, updated = ?, finished = ?
				WHERE company_id = ? AND status = 'QUEUED' AND (started < ? OR (started = ? AND id < ?)) RETURNING id`,
				blob(id), nanos(now), nanos(now), co, started, started, blob(id))
			if err != nil {
				return err
			}
			for rows.Next() {
				var s uuid.UUID
				if err := rows.Scan(&s); err != nil {
					rows.Close()
					return err
				}
				t.Superseded = append(t.Superseded, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'PROCESSING', updated = ? WHERE id = ?`,
				nanos(now), blob(id)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM archives WHERE company_id = ? AND job_id NOT IN
			(SELECT id FROM jobs WHERE company_id = ? AND status IN ('QUEUED', 'PROCESSING', 'HELD'))`, co, co); err != nil {
			return err
		}
		if t == nil {
			return nil
		}
		if t.Job, err = scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+`, details, rows FROM jobs WHERE id = ?`,
			blob(id)), true); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT data FROM archives WHERE job_id = ?`, blob(id)).Scan(&t.Archive)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take a job of company %s: %w", c.company, err)
	}
	return t, nil
}

func (c *claim) DropArchive(ctx context.Context, job uuid.UUID) error {
	err := c.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM archives WHERE job_id = ? AND company_id = ?`, blob(job), blob(c.company))
		return err
	})
	if err != nil {
		return fmt.Errorf("drop the archive of job %s: %w", job, err)
	}
	return nil
}

// Decide implements directory.Queue.
func (s *Store) Decide(ctx context.Context, company, id uuid.UUID, approve bool, by string, now time.Time) (*directory.Job, error) {
	var j *directory.Job
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+`, details, rows FROM jobs
			WHERE id = ? AND company_id = ?`, blob(id), blob(company)), true)
		if errors.Is(err, sql.ErrNoRows) {
			return directory.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := directory.DecideJob(j, approve, by, now); err != nil {
			return err
		}
		if err := saveJob(ctx, tx, j); err != nil {
			return err
		}
		if !approve {
			_, err = tx.ExecContext(ctx, `DELETE FROM archives WHERE job_id = ?`, blob(id))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("decide job %s: %w", id, err)
	}
	return j, nil
}
