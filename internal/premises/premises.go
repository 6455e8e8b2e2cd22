package premises

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/secret"
	"github.com/epicsync/epic/internal/source"
)

// The premises schema versions (goose versions of the epicd migrations)
// this package reads. Version 1 made every directory table; 2 and 3 added
// the queue and the API's tables and an index, 4 the companies'
// generation column: none of which it reads.
// A test checks SchemaMax against the migrations of this build.
const (
	SchemaMin = 1
	SchemaMax = 4
)

// ErrSchema is wrapped by the error about a premises database whose
// schema this version does not read.
var ErrSchema = errors.New("unsupported premises schema")

// KeyPrefix starts the external key made for a premises object that has
// none: KeyPrefix + the object's premises UUID.
const KeyPrefix = "premises-"

// Config is the [cloudsync] section of epic.toml.
type Config struct {
	// Data is the premises epicd's data folder (its --data): the SQLite
	// database DATA/epicd.db.
	Data string `toml:"data"`
	// Database is the premises epicd's --db: sqlite:PATH or
	// postgres://... (may be ENC(...)). One of Data and Database.
	Database string `toml:"database"`
	// Company is the name of the company to read.
	Company string `toml:"company"`
	// Timeout bounds the read (default 30m).
	Timeout string `toml:"timeout"`

	file string
}

// String never shows the database URL's password.
func (c Config) String() string { return fmt.Sprintf("{%s, company %q}", c.Where(), c.Company) }

// GoString never shows it either.
func (c Config) GoString() string { return c.String() }

// LoadConfig reads and checks [cloudsync] of the configuration file at
// path, decrypting an ENC(...) database.
func LoadConfig(path string) (Config, error) {
	var c Config
	if err := source.DecodeSection(path, "cloudsync", &c); err != nil {
		return c, err
	}
	c.file = path
	db, err := secret.Reveal("cloudsync.database", c.Database)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	c.Database = db
	if c.Data != "" && !filepath.IsAbs(c.Data) {
		c.Data = filepath.Join(filepath.Dir(path), c.Data)
	}
	return c, c.Validate()
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	where := c.file
	if where == "" {
		where = "configuration"
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(where+": "+format, args...)) }
	switch {
	case c.Data == "" && c.Database == "":
		bad("[cloudsync] names no premises database: write data = \"/var/lib/epicd\" (the premises epicd's data folder) or database = \"postgres://...\" (its --db)")
	case c.Data != "" && c.Database != "":
		bad("cloudsync.data and cloudsync.database are both set; keep one")
	case c.Database != "":
		if _, _, err := c.target(); err != nil {
			bad("cloudsync.database: %v", err)
		}
	}
	if strings.TrimSpace(c.Company) == "" {
		bad("cloudsync.company is not set: write the name of the premises company to copy")
	}
	if _, err := c.timeout(); err != nil {
		bad("cloudsync.timeout: %v", err)
	}
	return errors.Join(errs...)
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

// target returns the store kind ("sqlite" or "postgres") and its path or URL.
func (c Config) target() (kind, dsn string, err error) {
	db := strings.TrimSpace(c.Database)
	switch {
	case db == "":
		return "sqlite", filepath.Join(c.Data, "epicd.db"), nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "postgres", db, nil
	case strings.HasPrefix(db, "sqlite:"):
		return "sqlite", strings.TrimPrefix(db, "sqlite:"), nil
	}
	return "", "", errors.New("write sqlite:PATH or postgres://USER@HOST/DB (as the premises epicd's --db)")
}

// Where names the premises database without its password: for messages
// and for the source-health state.
func (c Config) Where() string {
	kind, dsn, err := c.target()
	if err != nil {
		return "an unknown database"
	}
	if kind == "postgres" {
		if u, err := url.Parse(dsn); err == nil {
			u.User = nil
			u.RawQuery = ""
			return u.String()
		}
		return "a PostgreSQL database"
	}
	if abs, err := filepath.Abs(dsn); err == nil {
		dsn = abs
	}
	return "sqlite:" + dsn
}

// Stats counts what Export wrote.
type Stats struct {
	Rows          map[string]int
	SchemaVersion int64
	// MadeKeys counts the objects without an external key that got one
	// (KeyPrefix + UUID).
	MadeKeys int
	// Skipped counts shift members whose object is missing.
	Skipped int
}

// People is the number of people written.
func (s Stats) People() int { return s.Rows[archive.FileUsers] }

// snapshot is one read-only transaction on the premises database.
type snapshot struct {
	tx *sql.Tx
	d  *dialect
}

// open opens the premises database read-only and begins the snapshot.
func open(ctx context.Context, cfg Config) (*sql.DB, *snapshot, error) {
	kind, dsn, err := cfg.target()
	if err != nil {
		return nil, nil, err
	}
	var db *sql.DB
	var opts *sql.TxOptions
	d := &sqliteDialect
	switch kind {
	case "sqlite":
		if _, err := os.Stat(dsn); err != nil {
			return nil, nil, fmt.Errorf("premises database %s: %w", dsn, unwrapPath(err))
		}
		q := url.Values{}
		q.Set("mode", "ro")
		q.Set("_busy_timeout", "10000")
		q.Set("_txlock", "deferred")
		q.Add("_pragma", "query_only(1)")
		db, err = sql.Open("sqlite", "file:"+(&url.URL{Path: dsn}).EscapedPath()+"?"+q.Encode())
		opts = &sql.TxOptions{}
	default:
		d = &postgresDialect
		db, err = sql.Open("pgx", dsn)
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open the premises database %s: %s", cfg.Where(), scrub(err, dsn))
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("open the premises database %s: %s", cfg.Where(), scrub(err, dsn))
	}
	return db, &snapshot{tx: tx, d: d}, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// scrub cuts a URL's password out of an error message.
func scrub(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}

// SchemaVersion returns the premises database's schema version.
func (s *snapshot) schemaVersion(ctx context.Context, where string) (int64, error) {
	var v int64
	if err := s.tx.QueryRowContext(ctx, s.d.version).Scan(&v); err != nil {
		return 0, fmt.Errorf("%w: %s has no epicd schema (no readable goose_db_version table: %v); point cloudsync at the database of a premises epicd", ErrSchema, where, err)
	}
	if v < SchemaMin || v > SchemaMax {
		newer := "older"
		if v > SchemaMax {
			newer = "newer"
		}
		return v, fmt.Errorf("%w: the premises database %s has schema version %d, %s than this epic reads (versions %d to %d); use the epic of the same release as the premises epicd",
			ErrSchema, where, v, newer, SchemaMin, SchemaMax)
	}
	return v, nil
}

// Export writes the company's directory from the premises database to w
// (version 1.3) as a mirror archive, read in one read-only snapshot.
func Export(ctx context.Context, cfg Config, w *archive.Writer, progress func(file string, rows int)) (Stats, error) {
	st := Stats{Rows: map[string]int{}}
	if err := cfg.Validate(); err != nil {
		return st, err
	}
	if w.Version() != archive.V1_3 {
		return st, fmt.Errorf("cloudsync writes archive version %s, not %s", archive.V1_3, w.Version())
	}
	timeout, _ := cfg.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	db, s, err := open(ctx, cfg)
	if err != nil {
		return st, err
	}
	defer db.Close()
	defer s.tx.Rollback()
	where := cfg.Where()
	if st.SchemaVersion, err = s.schemaVersion(ctx, where); err != nil {
		return st, err
	}
	var companyID any
	var name string
	err = s.tx.QueryRowContext(ctx, s.d.company, strings.ToLower(strings.TrimSpace(cfg.Company))).Scan(&companyID, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("the premises database %s has no company %q%s", where, cfg.Company, s.companies(ctx))
	}
	if err != nil {
		return st, fmt.Errorf("read the premises company: %w", err)
	}
	m := archive.DefaultManifest()
	m.Mirror = true
	if err := w.WriteManifest(m); err != nil {
		return st, err
	}
	e := &exporter{ctx: ctx, s: s, company: companyID, w: w, st: &st}
	for _, l := range archive.Layouts(w.Version()) {
		n, err := e.file(l)
		if err != nil {
			if ctx.Err() != nil {
				return st, fmt.Errorf("%s: the read did not finish within cloudsync.timeout (%s)", l.Name, timeout)
			}
			return st, fmt.Errorf("read %s from %s: %w", strings.TrimSuffix(l.Name, ".csv"), where, err)
		}
		st.Rows[l.Name] = n
		if progress != nil {
			progress(l.Name, n)
		}
	}
	// A read-only snapshot commits nothing; end it cleanly.
	if err := s.tx.Commit(); err != nil {
		return st, fmt.Errorf("end the premises snapshot: %w", err)
	}
	return st, nil
}

// companies lists the premises companies for an error message.
func (s *snapshot) companies(ctx context.Context) string {
	rows, err := s.tx.QueryContext(ctx, "SELECT name FROM companies ORDER BY name")
	if err != nil {
		return ""
	}
	defer rows.Close()
	var names []string
	for rows.Next() && len(names) < 20 {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, strconv.Quote(n))
		}
	}
	if len(names) == 0 {
		return " (it has no company at all)"
	}
	return " (it has " + strings.Join(names, ", ") + ")"
}

// key is an object's external key, or one made from its premises id.
func (e *exporter) key(ext, id string) (string, error) {
	if ext != "" {
		return ext, nil
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("object id %q is not a UUID", id)
	}
	return KeyPrefix + u.String(), nil
}

type exporter struct {
	ctx     context.Context
	s       *snapshot
	company any
	w       *archive.Writer
	st      *Stats
}

// flag scans a boolean stored as 0/1 (SQLite) or a boolean (PostgreSQL)
// and writes it as Y/N.
type flag string

func (f *flag) Scan(v any) error {
	switch x := v.(type) {
	case bool:
		*f = yn(x)
	case int64:
		*f = yn(x != 0)
	case []byte:
		*f = yn(string(x) == "t" || string(x) == "1" || string(x) == "true")
	case string:
		*f = yn(x == "t" || x == "1" || x == "true")
	default:
		return fmt.Errorf("not a flag: %T", v)
	}
	return nil
}

func yn(b bool) flag {
	if b {
		return "Y"
	}
	return "N"
}

// text scans a string that may be NULL (a list with no items, a missing
// site).
type text string

func (t *text) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = ""
	case string:
		*t = text(x)
	case []byte:
		*t = text(x)
	case int64:
		*t = text(strconv.FormatInt(x, 10))
	default:
		return fmt.Errorf("not text: %T", v)
	}
	return nil
}

// file writes one DS file and returns its row count.
func (e *exporter) file(l *archive.Layout) (int, error) {
	fw, err := e.w.Create(l)
	if err != nil {
		return 0, err
	}
	n, err := e.rows(l, fw)
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func (e *exporter) rows(l *archive.Layout, fw *archive.FileWriter) (int, error) {
	d := e.s.d
	args := []any{e.company}
	var q string
	switch {
	case l.Name == archive.FileSites:
		q = d.sites
	case l.Name == archive.FileUsers:
		q = d.people
	case l.DeviceType != "":
		q = d.devices
		args = append(args, l.DeviceType)
	case l.Name == archive.FileCustomValues:
		q = d.customs
	case l.Name == archive.FileGroups:
		q = d.groups
	case l.Name == archive.FileTeams:
		q = d.shifts
	case l.Name == archive.FileMemberships:
		q = d.members
	default:
		return 0, fmt.Errorf("cloudsync does not know how to read %s", l.Name)
	}
	rows, err := e.s.tx.QueryContext(e.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	row := fw.Row()
	idx := map[string]int{}
	for i, c := range l.Columns {
		idx[c.Name] = i
	}
	set := func(col string, v string) { row[idx[col]] = v }
	n := 0
	for rows.Next() {
		clear(row)
		var id, ext text
		var owned flag
		switch {
		case l.Name == archive.FileSites:
			var name, status, tz, lang, country, a1, a2, city, state, postal, lat, lon text
			if err := rows.Scan(&id, &ext, &owned, &name, &status, &tz, &lang, &country, &a1, &a2, &city, &state, &postal, &lat, &lon); err != nil {
				return n, err
			}
			for col, v := range map[string]text{"SITENAME": name, "STATUS": status, "SITE_TIMEZONE": tz, "SITE_LANGUAGE": lang,
				"COUNTRY": country, "ADDRESS1": a1, "ADDRESS2": a2, "CITY": city, "STATE_PROVINCE": state,
				"POSTAL_CODE": postal, "LATITUDE": lat, "LONGITUDE": lon} {
				set(col, string(v))
			}
		case l.Name == archive.FileUsers:
			var target, first, last, status, roles, site, lang, tz, sups, web text
			if err := rows.Scan(&id, &ext, &owned, &target, &first, &last, &status, &roles, &site, &lang, &tz, &sups, &web); err != nil {
				return n, err
			}
			for col, v := range map[string]text{"USER_ID": target, "FIRST_NAME": first, "LAST_NAME": last, "STATUS": status,
				"ROLE_LIST": roles, "SITE_NAME": site, "LANGUAGE_OVERRIDE": lang, "TIMEZONE_OVERRIDE": tz,
				"SUPERVISOR_LIST": sups, "WEB_LOGIN": web} {
				set(col, string(v))
			}
		case l.DeviceType != "":
			var name, status, order, delay, address, country, area, phone, ext2, pin, provider, cc, ownerID, ownerExt text
			var def, lock flag
			if err := rows.Scan(&id, &ext, &owned, &name, &status, &def, &order, &delay, &lock, &address, &country, &area,
				&phone, &ext2, &pin, &provider, &cc, &ownerID, &ownerExt); err != nil {
				return n, err
			}
			owner, err := e.key(string(ownerExt), string(ownerID))
			if err != nil {
				return n, err
			}
			switch l.DeviceType {
			case "EMAIL", "IM":
				set("ADDRESS", string(address))
			case "VOICE", "VOICE_IVR":
				set("COUNTRY", string(country))
				set("AREA_CODE", string(area))
				set("PHONE_NUMBER", string(phone))
				set("EXTENSION", string(ext2))
			case "TEXT_PHONE":
				set("TARGET_NUMBER", string(phone))
				set("COUNTRY_CODE", string(cc))
			case "FAX":
				set("FAX_NUMBER", string(phone))
				set("COUNTRY_CODE", string(cc))
			case "TEXT_PAGER", "NUMERIC_PAGER":
				set("PIN", string(pin))
				set("SERVICE_PROVIDER", string(provider))
			}
			set("USER_KEY", owner)
			set("DEVICE_NAME", string(name))
			set("STATUS", string(status))
			set("DEFAULT_DEVICE", string(def))
			set("DEVICE_ORDER", string(order))
			set("DELAY", string(delay))
			set("LOCK_24x7", string(lock))
		case l.Name == archive.FileCustomValues:
			var field, value, ownerID, ownerExt text
			if err := rows.Scan(&id, &ext, &owned, &field, &value, &ownerID, &ownerExt); err != nil {
				return n, err
			}
			owner, err := e.key(string(ownerExt), string(ownerID))
			if err != nil {
				return n, err
			}
			set("CUSTOM_USER_KEY", owner)
			set("FIELD_KEY", string(field))
			set("CUSTOM_VALUE", string(value))
		case l.Name == archive.FileGroups:
			var target, desc, status, tz, site, observers, sups text
			var useDef, byAll, dups flag
			if err := rows.Scan(&id, &ext, &owned, &target, &desc, &status, &useDef, &tz, &site, &byAll, &observers, &sups, &dups); err != nil {
				return n, err
			}
			for col, v := range map[string]text{"GROUP_NAME": target, "DESCRIPTION": desc, "STATUS": status,
				"TIMEZONE": tz, "GROUP_SITE_NAME": site, "OBSERVER_LIST": observers, "SUPERVISOR_LIST": sups} {
				set(col, string(v))
			}
			set("USE_DEFAULT_DEVICES", string(useDef))
			set("OBSERVED_BY_ALL", string(byAll))
			set("ALLOW_DUPLICATES", string(dups))
		case l.Name == archive.FileTeams:
			var groupID, groupExt, name, desc, esc text
			var useDef, rr flag
			if err := rows.Scan(&id, &ext, &owned, &groupID, &groupExt, &name, &desc, &useDef, &esc, &rr); err != nil {
				return n, err
			}
			group, err := e.key(string(groupExt), string(groupID))
			if err != nil {
				return n, err
			}
			set("GROUP_KEY", group)
			set("SUB_TARGET_NAME", string(name))
			set("DESCRIPTION", string(desc))
			set("USE_DEFAULT_DEVICES", string(useDef))
			set("ESCALATION_SCHEDULE", string(esc))
			set("IS_ROUND_ROBIN", string(rr))
		case l.Name == archive.FileMemberships:
			var shiftID, shiftExt, typ, memberID, sub, seq text
			var memberExt sql.NullString
			if err := rows.Scan(&shiftID, &shiftExt, &typ, &memberID, &memberExt, &sub, &seq, &owned); err != nil {
				return n, err
			}
			if !memberExt.Valid {
				e.st.Skipped++ // its object is gone: nothing to name
				continue
			}
			shift, err := e.key(string(shiftExt), string(shiftID))
			if err != nil {
				return n, err
			}
			member, err := e.key(memberExt.String, string(memberID))
			if err != nil {
				return n, err
			}
			set("TEAM_KEY", shift)
			set("MEMBER_KEY", member)
			set("MEMBER_TYPE", string(typ))
			if typ == "DEVICE" {
				set("MEMBER_SUB_TYPE", string(sub))
			}
			set("MEMBER_SEQUENCE_NUMBER", string(seq))
			set("IS_EXTERNALLY_OWNED", string(owned))
			set("ACTION", "Y")
			if err := fw.Write(row); err != nil {
				return n, err
			}
			n++
			continue
		}
		key, err := e.key(string(ext), string(id))
		if err != nil {
			return n, err
		}
		if ext == "" {
			e.st.MadeKeys++
		}
		set("EXTERNAL_KEY", key)
		set("IS_EXTERNALLY_OWNED", string(owned))
		set("ACTION", "Y")
		if err := fw.Write(row); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("after %d rows: %w (the read was cut short; no archive is written)", n, err)
	}
	return n, nil
}
