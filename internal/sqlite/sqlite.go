package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/epicsync/epic/internal/directory"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ directory.Store = (*Store)(nil)

// Store is a directory.Store in one SQLite database file.
type Store struct {
	db   *sql.DB
	path string
	// wmu makes writers wait their turn in the process, rather than in
	// SQLite's busy handler: SQLite has one writer at a time.
	wmu    sync.Mutex
	totals directory.Totals // of Reader's pages (read.go)
}

// Open opens the database file at path, creating it if it does not exist
// (its folder must), and migrates it to the current schema.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite database: no path")
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open sqlite database %s: folder %s does not exist", path, dir)
		}
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open sqlite database %s: %s is not a folder", path, dir)
	}

	q := url.Values{}
	q.Set("_busy_timeout", "10000") // ms; another process's writer
	q.Set("_foreign_keys", "1")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")          // read-only transactions stay deferred
	q.Add("_pragma", "cache_size(-65536)") // 64 MiB a connection
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	// One writer at a time (wmu) plus readers: Views run beside an Update.
	n := max(4, runtime.GOMAXPROCS(0)+1)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := &Store{db: db, path: path}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Migrate brings the schema up to date; Open has done it already.
func (s *Store) Migrate(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.path, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", s.path, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// write runs fn in a write transaction, one writer at a time: committed
// when fn returns nil, rolled back otherwise and on a panic (which goes
// on).
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	return nil
}

// read runs fn in a read transaction: one snapshot, taken at its first
// read, beside any writer.
func (s *Store) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // BEGIN (deferred)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// CreateCompany stores c, setting its ID (if nil) and Created time.
func (s *Store) CreateCompany(ctx context.Context, c *directory.Company) error {
	cfg, err := marshal(c.Config)
	if err != nil {
		return fmt.Errorf("create company %q: %w", c.Name, err)
	}
	id := c.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	created := time.Now().UTC().Truncate(time.Microsecond)
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO companies (id, name, name_key, epic_enabled, config, created) VALUES (?, ?, ?, ?, ?, ?)`,
			id[:], c.Name, fold(c.Name), c.EpicEnabled, cfg, created.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("create company %q: %w", c.Name, mapErr(err))
	}
	c.ID, c.Created = id, created
	return nil
}

const companyColumns = `id, name, epic_enabled, config, created`

func scanCompany(sc interface{ Scan(...any) error }) (*directory.Company, error) {
	var (
		c       directory.Company
		cfg     string
		created int64
	)
	if err := sc.Scan(&c.ID, &c.Name, &c.EpicEnabled, &cfg, &created); err != nil {
		return nil, err
	}
	if err := unmarshal(cfg, &c.Config); err != nil {
		return nil, fmt.Errorf("company %q config: %w", c.Name, err)
	}
	c.Created = fromNanos(created)
	return &c, nil
}

// Company returns the company of that name, case-insensitively.
func (s *Store) Company(ctx context.Context, name string) (*directory.Company, error) {
	c, err := scanCompany(s.db.QueryRowContext(ctx,
		`SELECT `+companyColumns+` FROM companies WHERE name_key = ?`, fold(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("company %q: %w", name, directory.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("company %q: %w", name, err)
	}
	return c, nil
}

// Companies returns every company, by name.
func (s *Store) Companies(ctx context.Context) ([]*directory.Company, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+companyColumns+` FROM companies ORDER BY name_key, name`)
	if err != nil {
		return nil, fmt.Errorf("companies: %w", err)
	}
	defer rows.Close()
	var out []*directory.Company
	for rows.Next() {
		c, err := scanCompany(rows)
		if err != nil {
			return nil, fmt.Errorf("companies: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("companies: %w", err)
	}
	return out, nil
}

// companyExists is ErrNotFound when the company does not exist.
func companyExists(ctx context.Context, tx *sql.Tx, company uuid.UUID) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM companies WHERE id = ?`, company[:]).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("company %s: %w", company, directory.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("company %s: %w", company, err)
	}
	return nil
}

// fold is the case-insensitive form of a unique name.
func fold(s string) string { return strings.ToLower(s) }

// mapErr makes SQLite's uniqueness violations directory.ErrExists.
func mapErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %w", directory.ErrExists, err)
		}
	}
	return err
}

// SetConfig implements directory.Store.
func (s *Store) SetConfig(ctx context.Context, company uuid.UUID, cfg directory.Config) error {
	js, err := marshal(cfg)
	if err != nil {
		return fmt.Errorf("set the configuration of company %s: %w", company, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE companies SET config = ?, generation = generation + 1 WHERE id = ?`, js, blob(company))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return directory.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set the configuration of company %s: %w", company, err)
	}
	return nil
}
