package sqlsource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"  // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib"  // driver "pgx"
	_ "github.com/microsoft/go-mssqldb" // driver "sqlserver"
	_ "modernc.org/sqlite"              // driver "sqlite"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/secret"
	"github.com/epicsync/epic/internal/source"
)

// Drivers maps the driver names of [sql] driver to database/sql's.
var Drivers = map[string]string{
	"postgres":  "pgx",
	"mysql":     "mysql",
	"sqlserver": "sqlserver",
	"sqlite":    "sqlite",
}

// Config is the [sql] section of epic.toml.
type Config struct {
	Driver  string `toml:"driver"`
	DSN     string `toml:"dsn"`      // may be ENC(...)
	DSNFile string `toml:"dsn_file"` // a file holding the DSN (may be ENC(...))
	// Version is the archive version written (default 1.3).
	Version string `toml:"version"`
	// Mirror writes mirror=Y (default true): the archive is the whole
	// directory, and objects it does not name are removed.
	Mirror              *bool    `toml:"mirror"`
	DeviceNamesToIgnore []string `toml:"device_names_to_ignore"`
	// Timeout bounds the whole export (default 30m).
	Timeout string `toml:"timeout"`
	// Queries: DS file name (DS_USERS or DS_USERS.csv) → SELECT.
	Queries map[string]string `toml:"queries"`

	file string
}

// String never shows the DSN.
func (c Config) String() string {
	return fmt.Sprintf("{driver: %s, %d queries}", c.Driver, len(c.Queries))
}

// GoString never shows it either.
func (c Config) GoString() string { return c.String() }

// LoadConfig reads and checks [sql] of the configuration file at path,
// decrypting ENC(...) values and reading dsn_file.
func LoadConfig(path string) (Config, error) {
	var c Config
	if err := source.DecodeSection(path, "sql", &c); err != nil {
		return c, err
	}
	c.file = path
	keys := secret.NewReader("")
	if c.DSN != "" && c.DSNFile != "" {
		return c, fmt.Errorf("%s: sql.dsn and sql.dsn_file are both set; keep one", path)
	}
	if c.DSNFile != "" {
		b, err := os.ReadFile(c.DSNFile)
		if err != nil {
			return c, fmt.Errorf("%s: sql.dsn_file: %v", path, pathErr(err))
		}
		c.DSN = strings.TrimSpace(string(b))
		if c.DSN == "" {
			return c, fmt.Errorf("%s: sql.dsn_file: %s is empty", path, c.DSNFile)
		}
	}
	dsn, err := keys.Reveal("sql.dsn", c.DSN)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	c.DSN = dsn
	return c, c.Validate()
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func driverNames() string {
	var n []string
	for k := range Drivers {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	where := c.file
	if where == "" {
		where = "configuration"
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(where+": "+format, args...)) }
	if c.Driver == "" {
		bad("sql.driver is not set; write one of %s", driverNames())
	} else if _, ok := Drivers[c.Driver]; !ok {
		bad("sql.driver %q is not one this epic knows; write one of %s", c.Driver, driverNames())
	}
	if c.DSN == "" {
		bad("sql.dsn is not set: write dsn (or dsn_file) in [sql]")
	}
	if _, err := c.version(); err != nil {
		bad("sql.version: %v", err)
	}
	if _, err := c.timeout(); err != nil {
		bad("sql.timeout: %v", err)
	}
	if len(c.Queries) == 0 {
		bad("[sql.queries] is empty: write at least DS_USERS = \"SELECT ...\"")
	}
	v, _ := c.version()
	for name, q := range c.Queries {
		l, err := layoutFor(name, v)
		if err != nil {
			bad("sql.queries.%s: %v", name, err)
			continue
		}
		if strings.TrimSpace(q) == "" {
			bad("sql.queries.%s is empty", name)
		}
		_ = l
	}
	if _, err := c.queries(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", where, err))
	}
	return errors.Join(errs...)
}

func (c Config) version() (archive.Version, error) {
	if c.Version == "" {
		return archive.Latest, nil
	}
	return archive.ParseVersion(c.Version)
}

func (c Config) timeout() (time.Duration, error) {
	if c.Timeout == "" {
		return 30 * time.Minute, nil
	}
	d, err := time.ParseDuration(c.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration; write e.g. \"30m\"", c.Timeout)
	}
	return d, nil
}

// layoutFor finds the DS file a query key names.
func layoutFor(name string, v archive.Version) (*archive.Layout, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasSuffix(n, ".CSV") {
		n += ".CSV"
	}
	for _, l := range archive.Layouts(v) {
		if strings.EqualFold(l.Name, n) {
			return l, nil
		}
	}
	var names []string
	for _, l := range archive.Layouts(v) {
		names = append(names, strings.TrimSuffix(l.Name, ".csv"))
	}
	return nil, fmt.Errorf("no DS file of archive version %s is called %s; the files are %s", v, name, strings.Join(names, ", "))
}

// queries returns the query of each layout (by layout name).
func (c Config) queries() (map[string]string, error) {
	v, err := c.version()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, q := range c.Queries {
		l, err := layoutFor(name, v)
		if err != nil {
			continue // reported by Validate
		}
		if _, dup := out[l.Name]; dup {
			return nil, fmt.Errorf("sql.queries names %s twice", l.Name)
		}
		out[l.Name] = q
	}
	return out, nil
}

// Manifest is the manifest the export writes.
func (c Config) Manifest() archive.Manifest {
	m := archive.DefaultManifest()
	m.Mirror = c.Mirror == nil || *c.Mirror
	m.DeviceNamesToIgnore = c.DeviceNamesToIgnore
	return m
}

// ArchiveVersion is the archive version the export writes.
func (c Config) ArchiveVersion() archive.Version {
	v, _ := c.version()
	return v
}

// Stats counts the rows written per file.
type Stats struct {
	Rows map[string]int
}

// People is the number of rows of DS_USERS.
func (s Stats) People() int { return s.Rows[archive.FileUsers] }

// Export runs the queries and writes their rows to w (whose version is
// cfg.ArchiveVersion()): the manifest, then every file of the version,
// blank (a header only) when no query is configured for it. progress, if
// not nil, gets a line per file.
func Export(ctx context.Context, cfg Config, w *archive.Writer, progress func(file string, rows int)) (Stats, error) {
	st := Stats{Rows: map[string]int{}}
	if err := cfg.Validate(); err != nil {
		return st, err
	}
	qs, _ := cfg.queries()
	timeout, _ := cfg.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	db, err := sql.Open(Drivers[cfg.Driver], cfg.DSN)
	if err != nil {
		return st, fmt.Errorf("open the %s database: %s", cfg.Driver, scrub(err, cfg.DSN))
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return st, fmt.Errorf("connect to the %s database: %s", cfg.Driver, scrub(err, cfg.DSN))
	}
	m := cfg.Manifest()
	if err := w.WriteManifest(m); err != nil {
		return st, err
	}
	for _, l := range archive.Layouts(w.Version()) {
		q, ok := qs[l.Name]
		n, err := writeFile(ctx, db, l, q, ok, w)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return st, fmt.Errorf("%s: the export did not finish within sql.timeout (%s)", l.Name, timeout)
			}
			return st, fmt.Errorf("%s: %s", strings.TrimSuffix(l.Name, ".csv"), scrub(err, cfg.DSN))
		}
		st.Rows[l.Name] = n
		if progress != nil {
			progress(l.Name, n)
		}
	}
	return st, nil
}

// scrub returns the error's message with the DSN and its password, if a
// driver quoted them, cut out.
func scrub(err error, dsn string) string {
	msg := err.Error()
	if dsn != "" {
		msg = strings.ReplaceAll(msg, dsn, "(dsn)")
	}
	for _, pw := range passwords(dsn) {
		if len(pw) >= 3 {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}

// passwords guesses the password parts of a DSN in the drivers' forms:
// scheme://user:PASSWORD@host, user:PASSWORD@tcp(host), password=PASSWORD.
func passwords(dsn string) []string {
	var out []string
	if i := strings.LastIndexByte(dsn, '@'); i > 0 {
		head := dsn[:i]
		if j := strings.Index(head, "://"); j >= 0 {
			head = head[j+3:]
		}
		if k := strings.IndexByte(head, ':'); k >= 0 {
			out = append(out, head[k+1:])
		}
	}
	for _, part := range strings.FieldsFunc(dsn, func(r rune) bool { return r == ';' || r == ' ' || r == '&' || r == '?' }) {
		k, v, ok := strings.Cut(part, "=")
		if ok && (strings.EqualFold(strings.TrimSpace(k), "password") || strings.EqualFold(strings.TrimSpace(k), "pwd")) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// writeFile writes one DS file from its query (blank without one) and
// returns its row count.
func writeFile(ctx context.Context, db *sql.DB, l *archive.Layout, q string, has bool, w *archive.Writer) (int, error) {
	fw, err := w.Create(l)
	if err != nil {
		return 0, err
	}
	if !has {
		return 0, fw.Close()
	}
	n, err := copyRows(ctx, db, l, q, fw)
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func copyRows(ctx context.Context, db *sql.DB, l *archive.Layout, q string, fw *archive.FileWriter) (int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	// Bind the result's columns to the layout's by name.
	pos := make([]int, len(cols))
	seen := map[int]string{}
	var unknown, dup []string
	for i, c := range cols {
		lc := columnOf(l, c)
		if lc == nil {
			unknown = append(unknown, c)
			continue
		}
		idx := fw.Index(lc.Name)
		if prev, ok := seen[idx]; ok {
			dup = append(dup, prev+" and "+c)
		}
		seen[idx] = c
		pos[i] = idx
	}
	if len(unknown) > 0 {
		return 0, fmt.Errorf("the query returns column(s) %s, which %s does not have; name the result columns after the file's: %s",
			strings.Join(unknown, ", "), l.Name, strings.Join(l.ColumnNames(), ", "))
	}
	if len(dup) > 0 {
		return 0, fmt.Errorf("the query returns the same column twice (%s)", strings.Join(dup, "; "))
	}
	// ACTION and IS_EXTERNALLY_OWNED default to Y when the query has no
	// such column.
	defaults := map[int]string{}
	for _, name := range []string{"ACTION", "IS_EXTERNALLY_OWNED"} {
		if l.Column(name) != nil {
			if _, ok := seen[fw.Index(name)]; !ok {
				defaults[fw.Index(name)] = "Y"
			}
		}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	row := fw.Row()
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("row %d: %w", n+1, err)
		}
		clear(row)
		for i, d := range defaults {
			row[i] = d
		}
		for i, v := range vals {
			s, err := text(v)
			if err != nil {
				return n, fmt.Errorf("row %d column %s: %w", n+1, cols[i], err)
			}
			row[pos[i]] = s
		}
		if err := fw.Write(row); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("after %d rows: %w (the result was cut short; no archive is written)", n, err)
	}
	return n, nil
}

// columnOf finds a layout's column by name, case-insensitively.
func columnOf(l *archive.Layout, name string) *archive.Column {
	name = strings.TrimSpace(name)
	for i := range l.Columns {
		if strings.EqualFold(l.Columns[i].Name, name) {
			return &l.Columns[i]
		}
	}
	return nil
}

// text renders a database value as a CSV value: NULL is empty, booleans
// are Y/N, times RFC 3339.
func text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case bool:
		if x {
			return "Y", nil
		}
		return "N", nil
	case time.Time:
		return x.Format(time.RFC3339), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("a value of type %T cannot be written; cast it to text in the query", v)
}
