package postgres

import (
	"context"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/epicsync/epic/internal/directory"
)

//go:embed migrations/*.sql
var migrations embed.FS

// LockClass is the first key of the transaction-level advisory lock that
// Update takes on a company: pg_advisory_xact_lock(LockClass, k), k being
// the company ID's four 32-bit words XORed together. Other packages that
// lock companies must use another class: a session lock on this key held
// by one connection would make Update wait on another forever.
const LockClass int32 = 0x45504943 // "EPIC"

// migrateLockID is the key of the session advisory lock that Migrate
// holds ("EPICMIGR"), not goose's default, which other programs using goose
// on the same database would share.
const migrateLockID int64 = 0x455049434d494752

// Store is a directory.Store in PostgreSQL. It is safe for concurrent use,
// also by several processes on one database.
type Store struct {
	pool   *pgxpool.Pool
	totals directory.Totals // of Reader's pages (read.go)
}

var _ directory.Store = (*Store)(nil)

// Open connects to the database of dsn (a postgres:// URL or key=value
// string, as pgx reads it, pool_max_conns and friends included) and
// migrates its schema to the current version.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies the migrations the database lacks, under goose's session
// advisory lock so that instances starting together take turns.
func (s *Store) Migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Instances starting together wait for each other, trying again every
	// second for five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrateLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool) // closing db leaves the pool open
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// CreateCompany implements directory.Store. A company whose ID is set
// keeps it.
func (s *Store) CreateCompany(ctx context.Context, c *directory.Company) error {
	id := c.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	created := time.Now().UTC().Truncate(time.Microsecond) // what timestamptz keeps
	cfg, err := json.Marshal(c.Config)
	if err != nil {
		return fmt.Errorf("create company %q: %w", c.Name, err)
	}
	_, err = s.pool.Exec(ctx,
		`INSERT INTO companies (id, name, name_key, epic_enabled, config, created) VALUES ($1, $2, $3, $4, $5, $6)`,
		pgID(id), c.Name, fold(c.Name), c.EpicEnabled, json.RawMessage(cfg), created)
	if err != nil {
		return fmt.Errorf("create company %q: %w", c.Name, mapErr(err, false))
	}
	c.ID, c.Created = id, created
	return nil
}

const companyColumns = `id, name, epic_enabled, config, created`

func scanCompany(row pgx.Row) (*directory.Company, error) {
	var (
		c   directory.Company
		cfg []byte
	)
	if err := row.Scan(scanID{&c.ID}, &c.Name, &c.EpicEnabled, &cfg, &c.Created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cfg, &c.Config); err != nil {
		return nil, fmt.Errorf("company %s config: %w", c.ID, err)
	}
	c.Created = c.Created.UTC()
	return &c, nil
}

// Company implements directory.Store.
func (s *Store) Company(ctx context.Context, name string) (*directory.Company, error) {
	c, err := scanCompany(s.pool.QueryRow(ctx,
		`SELECT `+companyColumns+` FROM companies WHERE name_key = $1`, fold(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("company %q: %w", name, directory.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("company %q: %w", name, err)
	}
	return c, nil
}

// Companies implements directory.Store.
func (s *Store) Companies(ctx context.Context) ([]*directory.Company, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+companyColumns+` FROM companies ORDER BY name_key, name`)
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*directory.Company, error) { return scanCompany(r) })
	if err != nil {
		return nil, fmt.Errorf("companies: %w", err)
	}
	return cs, nil
}

// fold is the case-insensitive form of a unique name, as the engine and
// the sqlite store fold it.
func fold(s string) string { return strings.ToLower(s) }

// lockKey is the second key of the company's advisory lock (LockClass).
func lockKey(company uuid.UUID) int32 {
	var k uint32
	for i := 0; i < 16; i += 4 {
		k ^= binary.BigEndian.Uint32(company[i:])
	}
	return int32(k)
}

// Update implements directory.Store: one READ COMMITTED transaction that
// first takes the company's advisory lock. A company that does not exist
// is ErrNotFound; an error of fn is returned as it is.
func (s *Store) Update(ctx context.Context, company uuid.UUID, fn func(directory.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("update company %s: %w", company, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, LockClass, lockKey(company)); err != nil {
		return fmt.Errorf("lock company %s: %w", company, err)
	}
	if err := companyExists(ctx, tx, company); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE companies SET generation = generation + 1 WHERE id = $1`, pgID(company)); err != nil {
		return fmt.Errorf("company %s generation: %w", company, err)
	}
	t := &txn{view: view{ctx: ctx, tx: tx, company: company}}
	if err := fn(t); err != nil {
		return err
	}
	if t.failed != nil {
		return fmt.Errorf("update company %s: fn went on after a failed write: %w", company, t.failed)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit company %s: %w", company, mapErr(err, true))
	}
	return nil
}

// View implements directory.Store: one REPEATABLE READ READ ONLY
// transaction. A company that does not exist is ErrNotFound.
func (s *Store) View(ctx context.Context, company uuid.UUID, fn func(directory.View) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("view company %s: %w", company, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := companyExists(ctx, tx, company); err != nil {
		return err
	}
	if err := fn(&view{ctx: ctx, tx: tx, company: company}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("view company %s: %w", company, err)
	}
	return nil
}

func companyExists(ctx context.Context, tx pgx.Tx, company uuid.UUID) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM companies WHERE id = $1)`, pgID(company)).Scan(&ok); err != nil {
		return fmt.Errorf("company %s: %w", company, err)
	}
	if !ok {
		return fmt.Errorf("company %s: %w", company, directory.ErrNotFound)
	}
	return nil
}

// SaveJob implements directory.Store. A job of a company that does not
// exist is ErrNotFound.
func (s *Store) SaveJob(ctx context.Context, j *directory.Job) error {
	if err := saveJob(ctx, s.pool, j); err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, mapErr(err, true))
	}
	return nil
}

type execer interface {
	Exec(ctx context.Context, sql string, arguments ...any) (pgconn.CommandTag, error)
}

// saveJob inserts or replaces j.
func saveJob(ctx context.Context, db execer, j *directory.Job) error {
	manifest, err := json.Marshal(j.Manifest)
	if err != nil {
		return err
	}
	summary, err := json.Marshal(j.Summary)
	if err != nil {
		return err
	}
	details, err := json.Marshal(j.Details)
	if err != nil {
		return err
	}
	var finished any
	if !j.Finished.IsZero() {
		finished = j.Finished
	}
	_, err = db.Exec(ctx, `
		INSERT INTO jobs (company_id, id, name, status, by_user, client_version, started, updated, finished,
			manifest, total, processed, superseded_by, summary, details, rows)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (company_id, id) DO UPDATE SET
			name = excluded.name, status = excluded.status, by_user = excluded.by_user,
			client_version = excluded.client_version, started = excluded.started, updated = excluded.updated,
			finished = excluded.finished, manifest = excluded.manifest, total = excluded.total,
			processed = excluded.processed, superseded_by = excluded.superseded_by,
			summary = excluded.summary, details = excluded.details, rows = excluded.rows`,
		pgID(j.CompanyID), pgID(j.ID), j.Name, string(j.Status), j.By, j.ClientVersion, j.Started, j.Updated, finished,
		json.RawMessage(manifest), j.Total, j.Processed, pgID(j.SupersededBy),
		json.RawMessage(summary), json.RawMessage(details), j.Rows)
	return err
}

const jobColumns = `id, company_id, name, status, by_user, client_version, started, updated, finished,
	manifest, total, processed, superseded_by, summary`

func scanJob(row pgx.Row, full bool) (*directory.Job, error) {
	var (
		j                          directory.Job
		status                     string
		finished                   pgtype.Timestamptz
		manifest, summary, details []byte
	)
	dest := []any{scanID{&j.ID}, scanID{&j.CompanyID}, &j.Name, &status, &j.By, &j.ClientVersion, &j.Started, &j.Updated, &finished,
		&manifest, &j.Total, &j.Processed, scanID{&j.SupersededBy}, &summary}
	if full {
		dest = append(dest, &details, &j.Rows)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	j.Status = directory.JobStatus(status)
	j.Started, j.Updated = j.Started.UTC(), j.Updated.UTC()
	if finished.Valid {
		j.Finished = finished.Time.UTC()
	}
	if err := json.Unmarshal(manifest, &j.Manifest); err != nil {
		return nil, fmt.Errorf("job %s manifest: %w", j.ID, err)
	}
	if err := json.Unmarshal(summary, &j.Summary); err != nil {
		return nil, fmt.Errorf("job %s summary: %w", j.ID, err)
	}
	if full {
		if err := json.Unmarshal(details, &j.Details); err != nil {
			return nil, fmt.Errorf("job %s details: %w", j.ID, err)
		}
	}
	return &j, nil
}

// Job implements directory.Store.
func (s *Store) Job(ctx context.Context, company, id uuid.UUID) (*directory.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx,
		`SELECT `+jobColumns+`, details, rows FROM jobs WHERE company_id = $1 AND id = $2`, pgID(company), pgID(id)), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("job %s: %w", id, directory.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return j, nil
}

// Jobs implements directory.Store: newest (Started) first, ties by ID.
func (s *Store) Jobs(ctx context.Context, company uuid.UUID) ([]*directory.Job, error) {
	rows, _ := s.pool.Query(ctx,
		`SELECT `+jobColumns+` FROM jobs WHERE company_id = $1 ORDER BY started DESC, id DESC`, pgID(company))
	js, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*directory.Job, error) { return scanJob(r, false) })
	if err != nil {
		return nil, fmt.Errorf("jobs of company %s: %w", company, err)
	}
	return js, nil
}

// pgID is id as pgx encodes it fastest (uuid.UUID would go through its
// driver.Valuer string); uuid.Nil is NULL.
func pgID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil} }

// pgIDs is ids for a uuid[] parameter.
func pgIDs(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = pgID(id)
	}
	return out
}

// scanID scans a uuid, NULL as uuid.Nil, into *uuid.UUID.
type scanID struct{ p *uuid.UUID }

func (s scanID) ScanUUID(v pgtype.UUID) error {
	*s.p = v.Bytes // zero when NULL
	return nil
}

// fromPg converts a scanned uuid[] (nil when empty).
func fromPg(ids []pgtype.UUID) []uuid.UUID {
	if len(ids) == 0 {
		return nil
	}
	out := make([]uuid.UUID, len(ids))
	for i, id := range ids {
		out[i] = id.Bytes
	}
	return out
}

// mapErr turns constraint violations into the directory's sentinels,
// keeping the database's message: a unique violation is ErrExists and,
// when refs is set, a missing referenced row is ErrNotFound.
func mapErr(err error, refs bool) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case pe.Code == "23505":
		return fmt.Errorf("%w: %w", directory.ErrExists, err)
	case pe.Code == "23503" && refs:
		return fmt.Errorf("%w: %w", directory.ErrNotFound, err)
	}
	return err
}

// SetConfig implements directory.Store.
func (s *Store) SetConfig(ctx context.Context, company uuid.UUID, cfg directory.Config) error {
	js, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("set the configuration of company %s: %w", company, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE companies SET config = $1, generation = generation + 1 WHERE id = $2`, js, pgID(company))
	if err != nil {
		return fmt.Errorf("set the configuration of company %s: %w", company, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set the configuration of company %s: %w", company, directory.ErrNotFound)
	}
	return nil
}
