package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epicsync/epic/internal/directory"
)

// The queue keeps archives in the table archives, committed with their
// QUEUED job. A company's queue lock is a session advisory lock,
// pg_try_advisory_lock(bigint), held by a connection taken out of the pool
// for the whole run: PostgreSQL drops it when that session ends, however
// the process holding it ends. Its key space (one bigint) is not that of
// Update's transaction lock (two int4, LockClass), so a run that holds a
// company's queue lock and applies a job through Update never waits on
// itself.

// queueLockKey is the key of the company's queue lock: the two halves of
// its ID XORed together, with the top byte replaced by 'Q' so it does
// not meet migrateLockID or other programs' keys made of text.
func queueLockKey(company uuid.UUID) int64 {
	k := binary.BigEndian.Uint64(company[:8]) ^ binary.BigEndian.Uint64(company[8:])
	return int64(k&0x00ffffffffffffff | 0x51<<56)
}

// claimPing is how often a claim checks that its session lives.
var claimPing = 5 * time.Second

// Enqueue implements directory.Queue.
func (s *Store) Enqueue(ctx context.Context, j *directory.Job, archive []byte) error {
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := companyExists(ctx, tx, j.CompanyID); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE company_id = $1 AND id = $2)`,
			pgID(j.CompanyID), pgID(j.ID)).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("job %s: %w", j.ID, directory.ErrExists)
		}
		if err := saveJob(ctx, tx, j); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO archives (company_id, job_id, data) VALUES ($1, $2, $3)`,
			pgID(j.CompanyID), pgID(j.ID), archive)
		return err
	})
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", j.ID, mapErr(err, true))
	}
	return nil
}

// Pending implements directory.Queue.
func (s *Store) Pending(ctx context.Context) ([]uuid.UUID, error) {
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT company_id FROM jobs WHERE status IN ('QUEUED', 'PROCESSING')`)
	ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uuid.UUID, error) {
		var id uuid.UUID
		err := r.Scan(scanID{&id})
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending companies: %w", err)
	}
	return ids, nil
}

// Claim implements directory.Queue.
func (s *Store) Claim(ctx context.Context, company uuid.UUID) (directory.Claim, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim company %s: %w", company, err)
	}
	key := queueLockKey(company)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("claim company %s: %w", company, err)
	}
	if !ok {
		conn.Release()
		return nil, nil
	}
	c := &claim{conn: conn, company: company, key: key, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go c.watch()
	return c, nil
}

type claim struct {
	mu      sync.Mutex // conn is one session: one statement at a time
	conn    *pgxpool.Conn
	company uuid.UUID
	key     int64

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{} // closed by Release: watch returns
	done     chan struct{} // closed when watch has returned
	relOnce  sync.Once
	relErr   error
}

var _ directory.Claim = (*claim)(nil)

// watch pings the session every claimPing until Release; a ping that
// fails means the lock is gone with the session.
func (c *claim) watch() {
	defer close(c.done)
	t := time.NewTicker(claimPing)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.mu.Lock()
			ctx, cancel := context.WithTimeout(context.Background(), claimPing)
			err := c.conn.Ping(ctx)
			cancel()
			c.mu.Unlock()
			if err != nil {
				c.setLost()
				return
			}
		}
	}
}

func (c *claim) setLost() { c.lostOnce.Do(func() { close(c.lost) }) }

func (c *claim) Lost() <-chan struct{} { return c.lost }

func (c *claim) Release() error {
	c.relOnce.Do(func() {
		close(c.stop)
		<-c.done
		c.mu.Lock()
		defer c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var ok bool
		if err := c.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, c.key).Scan(&ok); err != nil || !ok {
			// The session is broken or lost the lock: close it rather
			// than give the pool a connection that may hold it.
			c.conn.Conn().Close(ctx)
			if err != nil {
				c.relErr = fmt.Errorf("release company %s: %w", c.company, err)
			}
		}
		c.conn.Release()
	})
	return c.relErr
}

// tx runs fn in a transaction on the claim's session.
func (c *claim) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.lost:
		return errors.New("the queue lock was lost with its database session")
	default:
	}
	err := pgx.BeginFunc(ctx, c.conn, fn)
	if err != nil && c.conn.Conn().IsClosed() {
		c.setLost()
	}
	return err
}

func requeue(ctx context.Context, tx pgx.Tx, company uuid.UUID, now time.Time) (int, error) {
	tag, err := tx.Exec(ctx, `UPDATE jobs SET status = 'QUEUED', updated = $2 WHERE company_id = $1 AND status = 'PROCESSING'`,
		pgID(company), now)
	return int(tag.RowsAffected()), err
}

func (c *claim) Requeue(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := c.tx(ctx, func(tx pgx.Tx) error {
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
	co := pgID(c.company)
	err := c.tx(ctx, func(tx pgx.Tx) error {
		t = nil
		requeued, err := requeue(ctx, tx, c.company, now)
		if err != nil {
			return err
		}
		var (
			id      uuid.UUID
			started time.Time
		)
		err = tx.QueryRow(ctx, `SELECT id, started FROM jobs WHERE company_id = $1 AND status = 'QUEUED'
			ORDER BY started DESC, id DESC LIMIT 1`, co).Scan(scanID{&id}, &started)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil {
			t = &directory.Taken{Requeued: requeued}
			rows, _ := tx.Query(ctx, `UPDATE jobs SET status = 'SUPERSEDED', superseded_by = $2, updated = $3, finished = $3
				WHERE company_id = $1 AND status = 'QUEUED' AND (started, id) < ($4, $2) RETURNING id`,
				co, pgID(id), now, started)
			if t.Superseded, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (uuid.UUID, error) {
				var s uuid.UUID
				err := r.Scan(scanID{&s})
				return s, err
			}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE jobs SET status = 'PROCESSING', updated = $3 WHERE company_id = $1 AND id = $2`,
				co, pgID(id), now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM archives a WHERE a.company_id = $1 AND NOT EXISTS
			(SELECT 1 FROM jobs j WHERE j.company_id = a.company_id AND j.id = a.job_id
				AND j.status IN ('QUEUED', 'PROCESSING', 'HELD'))`, co); err != nil {
			return err
		}
		if t == nil {
			return nil
		}
		if t.Job, err = scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+`, details, rows FROM jobs
			WHERE company_id = $1 AND id = $2`, co, pgID(id)), true); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT data FROM archives WHERE company_id = $1 AND job_id = $2`, co, pgID(id)).Scan(&t.Archive)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
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
	err := c.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM archives WHERE company_id = $1 AND job_id = $2`, pgID(c.company), pgID(job))
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+`, details, rows FROM jobs
			WHERE company_id = $1 AND id = $2 FOR UPDATE`, pgID(company), pgID(id)), true)
		if errors.Is(err, pgx.ErrNoRows) {
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
			_, err = tx.Exec(ctx, `DELETE FROM archives WHERE company_id = $1 AND job_id = $2`, pgID(company), pgID(id))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("decide job %s: %w", id, err)
	}
	return j, nil
}
