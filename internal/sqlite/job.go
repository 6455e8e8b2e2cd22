package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

const upsertJob = `INSERT INTO jobs (id, company_id, name, status, uploaded_by, client_version, started, updated,
	finished, manifest, total, processed, superseded_by, summary, details, rows)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
	uploaded_by = excluded.uploaded_by, client_version = excluded.client_version, started = excluded.started,
	updated = excluded.updated, finished = excluded.finished, manifest = excluded.manifest,
	total = excluded.total, processed = excluded.processed, superseded_by = excluded.superseded_by,
	summary = excluded.summary, details = excluded.details, rows = excluded.rows
	WHERE jobs.company_id = excluded.company_id`

// saveJob inserts or replaces j in tx.
func saveJob(ctx context.Context, tx *sql.Tx, j *directory.Job) error {
	manifest, err := marshal(j.Manifest)
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	summary, err := jsonList(j.Summary)
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	details, err := jsonList(j.Details)
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	var rows any
	if len(j.Rows) > 0 {
		rows = j.Rows
	}
	res, err := tx.ExecContext(ctx, upsertJob, blob(j.ID), blob(j.CompanyID), j.Name, string(j.Status), j.By,
		j.ClientVersion, nanos(j.Started), nanos(j.Updated), nanos(j.Finished), manifest, j.Total, j.Processed,
		nullBlob(j.SupersededBy), summary, details, rows)
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	} else if n == 0 {
		return fmt.Errorf("save job %s: %w: a job of another company has its ID", j.ID, directory.ErrExists)
	}
	return nil
}

// SaveJob inserts or replaces a job outside any directory change.
func (s *Store) SaveJob(ctx context.Context, j *directory.Job) error {
	return s.write(ctx, func(tx *sql.Tx) error { return saveJob(ctx, tx, j) })
}

const jobColumns = `id, company_id, name, status, uploaded_by, client_version, started, updated, finished,
	manifest, total, processed, superseded_by, summary`

// scanJob reads jobColumns, and details and rows when full.
func scanJob(sc interface{ Scan(...any) error }, full bool) (*directory.Job, error) {
	var (
		j                          directory.Job
		started, updated, finished *int64
		manifest                   string
		summary, details           *string
	)
	dest := []any{&j.ID, &j.CompanyID, &j.Name, &j.Status, &j.By, &j.ClientVersion, &started, &updated, &finished,
		&manifest, &j.Total, &j.Processed, &j.SupersededBy, &summary}
	if full {
		dest = append(dest, &details, &j.Rows)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	j.Started, j.Updated, j.Finished = fromNullNanos(started), fromNullNanos(updated), fromNullNanos(finished)
	if err := unmarshal(manifest, &j.Manifest); err != nil {
		return nil, fmt.Errorf("job %s manifest: %w", j.ID, err)
	}
	var err error
	if j.Summary, err = fromJSONList[directory.SummaryLine](summary); err != nil {
		return nil, fmt.Errorf("job %s summary: %w", j.ID, err)
	}
	if j.Details, err = fromJSONList[directory.Detail](details); err != nil {
		return nil, fmt.Errorf("job %s details: %w", j.ID, err)
	}
	if len(j.Rows) == 0 {
		j.Rows = nil
	}
	return &j, nil
}

// Job returns a job of the company, or ErrNotFound.
func (s *Store) Job(ctx context.Context, company, id uuid.UUID) (*directory.Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+`, details, rows FROM jobs
		WHERE id = ? AND company_id = ?`, blob(id), blob(company)), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %s: %w", id, directory.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return j, nil
}

// Jobs returns the company's jobs, newest first, without Details and Rows.
func (s *Store) Jobs(ctx context.Context, company uuid.UUID) ([]*directory.Job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE company_id = ?
		ORDER BY started DESC, id DESC`, blob(company))
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	defer rows.Close()
	var out []*directory.Job
	for rows.Next() {
		j, err := scanJob(rows, false)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return out, nil
}
