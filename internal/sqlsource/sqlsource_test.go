package sqlsource

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/postgres/pgtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// The HR database of the tests, in SQL that SQLite, PostgreSQL and
// MySQL all take.
var fixture = []string{
	`CREATE TABLE hr_sites (code VARCHAR(20), name VARCHAR(100), tz VARCHAR(100), country VARCHAR(100))`,
	`CREATE TABLE hr_people (emp_id VARCHAR(20), login VARCHAR(100), first_name VARCHAR(100), last_name VARCHAR(100),
		active INTEGER, site_code VARCHAR(20), manager VARCHAR(100), dept VARCHAR(100))`,
	`CREATE TABLE hr_contacts (contact_id VARCHAR(40), emp_id VARCHAR(20), kind VARCHAR(10), val VARCHAR(100), position INTEGER)`,
	`INSERT INTO hr_sites VALUES ('S1', 'Berlin HQ', 'Europe/Berlin', 'Germany'), ('S2', 'Austin, TX', 'US/Central', NULL)`,
	`INSERT INTO hr_people VALUES
		('E001', 'ada', 'Ada', 'Lovelace', 1, 'S1', NULL, 'R&D'),
		('E002', 'grace', 'Grace', 'Hopper', 1, 'S2', 'ada', NULL),
		('E003', 'alan', 'Alan', 'Turing "the" Great', 0, 'S1', 'ada', 'Crypto, Inc')`,
	`INSERT INTO hr_contacts VALUES
		('E001-mail', 'E001', 'email', 'ada@example.com', 0),
		('E002-mail', 'E002', 'email', 'grace@example.com', 0),
		('E002-cell', 'E002', 'phone', '+1 512 555 0100', 1),
		('E003-mail', 'E003', 'email', 'alan@example.com', 0)`,
}

var queries = map[string]string{
	"DS_SITES": `SELECT code AS EXTERNAL_KEY, name AS SITENAME, 'ACTIVE' AS STATUS, tz AS SITE_TIMEZONE,
		country AS COUNTRY, 'N' AS IS_EXTERNALLY_OWNED FROM hr_sites ORDER BY code`,
	"DS_USERS.csv": `SELECT p.emp_id AS EXTERNAL_KEY, p.login AS USER_ID, p.first_name AS FIRST_NAME,
		p.last_name AS LAST_NAME, CASE WHEN p.active = 1 THEN 'ACTIVE' ELSE 'INACTIVE' END AS status,
		'Standard User' AS ROLE_LIST, s.name AS SITE_NAME, p.manager AS SUPERVISOR_LIST
		FROM hr_people p JOIN hr_sites s ON s.code = p.site_code ORDER BY p.emp_id`,
	"ds_email_devices": `SELECT contact_id AS EXTERNAL_KEY, val AS ADDRESS, emp_id AS USER_KEY, 'Work Email' AS DEVICE_NAME,
		'ACTIVE' AS STATUS, 'N' AS DEFAULT_DEVICE, position AS DEVICE_ORDER, 0 AS DELAY, 'N' AS LOCK_24x7
		FROM hr_contacts WHERE kind = 'email' ORDER BY contact_id`,
	"DS_VOICE_DEVICES": `SELECT contact_id AS EXTERNAL_KEY, val AS PHONE_NUMBER, emp_id AS USER_KEY, 'Mobile Phone' AS DEVICE_NAME,
		'ACTIVE' AS STATUS, 'N' AS DEFAULT_DEVICE, position AS DEVICE_ORDER, 5 AS DELAY, 'N' AS LOCK_24x7
		FROM hr_contacts WHERE kind = 'phone' ORDER BY contact_id`,
	"DS_USER_CUSTOM_VALUES": `SELECT emp_id AS EXTERNAL_KEY, emp_id AS CUSTOM_USER_KEY, 'DEPARTMENT' AS FIELD_KEY,
		dept AS CUSTOM_VALUE FROM hr_people ORDER BY emp_id`,
}

func fill(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, q := range fixture {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func export(t *testing.T, cfg Config) (string, Stats, error) {
	t.Helper()
	dir := t.TempDir()
	w, err := archive.NewDirWriter(dir, cfg.ArchiveVersion())
	if err != nil {
		t.Fatal(err)
	}
	st, err := Export(context.Background(), cfg, w, nil)
	return dir, st, err
}

// golden compares the folder with testdata/golden (or rewrites it with
// -update), then validates it.
func golden(t *testing.T, dir string) {
	t.Helper()
	want := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(want)
		os.MkdirAll(want, 0o755)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			os.WriteFile(filepath.Join(want, e.Name()), b, 0o644)
		}
	}
	entries, err := os.ReadDir(want)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadDir(dir)
	if len(got) != len(entries) {
		t.Errorf("%d files, want %d", len(got), len(entries))
	}
	for _, e := range entries {
		w, _ := os.ReadFile(filepath.Join(want, e.Name()))
		g, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || !bytes.Equal(g, w) {
			t.Errorf("%s differs from testdata/golden (run go test -update to rewrite it):\n--- got\n%s\n--- want\n%s", e.Name(), g, w)
		}
	}
	res, err := archive.ValidateDir(dir, archive.Options{Limits: archive.DefaultLimits(), Sink: func(f archive.Finding) {
		if f.Severity == archive.Error {
			t.Errorf("finding: %v", f)
		}
	}})
	if err != nil || res.Errors > 0 {
		t.Errorf("validate: %v, %d errors", err, res.Errors)
	}
}

func config(driver, dsn string) Config {
	return Config{Driver: driver, DSN: dsn, Queries: queries}
}

func sqliteDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hr.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fill(t, db)
	return path
}

func TestExportSQLite(t *testing.T) {
	dir, st, err := export(t, config("sqlite", sqliteDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	if st.People() != 3 || st.Rows[archive.FileEmail] != 3 || st.Rows[archive.FileGroups] != 0 {
		t.Errorf("stats %v", st.Rows)
	}
	golden(t, dir)
}

func TestExportPostgres(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fill(t, db)
	dir, _, err := export(t, config("postgres", dsn))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, dir)
}

// mysqlDSN returns the DSN of a fresh database on the MySQL or MariaDB
// server of EPIC_TEST_MYSQL_DSN; it skips without one (fails under
// EPIC_TEST_DISALLOW_SKIP=1).
func mysqlDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("EPIC_TEST_MYSQL_DSN")
	if base == "" {
		if os.Getenv("EPIC_TEST_DISALLOW_SKIP") == "1" {
			t.Fatal("EPIC_TEST_MYSQL_DSN is not set (scripts/test starts a MariaDB server and sets it)")
		}
		t.Skip("EPIC_TEST_MYSQL_DSN is not set")
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("EPIC_TEST_MYSQL_DSN: %v", err)
	}
	db, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("epic_test_%d", rand.Uint32())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", base)
		if err == nil {
			db.Exec("DROP DATABASE " + name)
			db.Close()
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

func TestExportMySQL(t *testing.T) {
	dsn := mysqlDSN(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fill(t, db)
	dir, _, err := export(t, config("mysql", dsn))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, dir)
}

func TestExportErrors(t *testing.T) {
	path := sqliteDB(t)
	for name, c := range map[string]struct {
		cfg  Config
		want string
	}{
		"unknown column": {Config{Driver: "sqlite", DSN: path, Queries: map[string]string{
			"DS_USERS": "SELECT emp_id AS EXTERNAL_KEY, login AS USERID, dept AS department FROM hr_people"}},
			"DS_USERS: the query returns column(s) USERID, department, which DS_USERS.csv does not have"},
		"duplicate column": {Config{Driver: "sqlite", DSN: path, Queries: map[string]string{
			"DS_USERS": "SELECT emp_id AS EXTERNAL_KEY, login AS external_key FROM hr_people"}},
			"the same column twice"},
		"bad query": {Config{Driver: "sqlite", DSN: path, Queries: map[string]string{
			"DS_USERS": "SELECT nope FROM nowhere"}}, "DS_USERS: query: "},
		"unknown file": {Config{Driver: "sqlite", DSN: path, Queries: map[string]string{
			"DS_PEOPLE": "SELECT 1"}}, "sql.queries.DS_PEOPLE: no DS file of archive version 1.3 is called DS_PEOPLE; the files are DS_SITES, DS_USERS"},
		"fax in 1.1": {Config{Driver: "sqlite", DSN: path, Version: "1.1", Queries: map[string]string{
			"DS_FAX_DEVICES": "SELECT 1"}}, "no DS file of archive version 1.1 is called DS_FAX_DEVICES"},
		"unknown driver": {Config{Driver: "oracle", DSN: "x", Queries: queries},
			`sql.driver "oracle" is not one this epic knows; write one of mysql, postgres, sqlite, sqlserver`},
		"no queries":  {Config{Driver: "sqlite", DSN: path}, "[sql.queries] is empty"},
		"bad timeout": {Config{Driver: "sqlite", DSN: path, Timeout: "soon", Queries: queries}, `sql.timeout: "soon" is not a duration`},
		"no server": {Config{Driver: "postgres", DSN: "postgres://epic:hunter2@127.0.0.1:1/hr?connect_timeout=2", Queries: queries},
			"connect to the postgres database"},
		"mysql no server": {Config{Driver: "mysql", DSN: "epic:hunter2@tcp(127.0.0.1:1)/hr?timeout=2s", Queries: queries},
			"connect to the mysql database"},
	} {
		_, _, err := export(t, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want it to say %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	os.WriteFile(dsnFile, []byte(sqliteDB(t)+"\n"), 0o600)
	cfgFile := filepath.Join(dir, "epic.toml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`[server]
url = "https://x"
[sql]
driver = "sqlite"
dsn_file = %q
mirror = false
device_names_to_ignore = ["Home Phone"]
[sql.queries]
DS_USERS = "SELECT emp_id AS EXTERNAL_KEY FROM hr_people"
`, dsnFile)), 0o600)
	cfg, err := LoadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if m := cfg.Manifest(); m.Mirror || len(m.DeviceNamesToIgnore) != 1 {
		t.Errorf("manifest %+v", m)
	}
	if s := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(s, "hr.db") {
		t.Errorf("printing the config shows the DSN: %s", s)
	}
	os.WriteFile(cfgFile, []byte("[sql]\ndriver = \"sqlite\"\ndsn = \"x\"\ndsn_fil = \"y\"\n"), 0o600)
	if _, err := LoadConfig(cfgFile); err == nil || !strings.Contains(err.Error(), "sql.dsn_fil") {
		t.Errorf("unknown key: %v", err)
	}
}
