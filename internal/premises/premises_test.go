package premises

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/sqlite"
)

// premisesStore is a premises epicd's store with company Acme holding a
// generated directory of n people.
type premisesStore struct {
	st      directory.Store
	company *directory.Company
	cfg     Config
}

func fill(t *testing.T, st directory.Store, n int) *directory.Company {
	t.Helper()
	ctx := context.Background()
	co := &directory.Company{Name: "Acme", EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := st.CreateCompany(ctx, co); err != nil {
		t.Fatal(err)
	}
	other := &directory.Company{Name: "Globex", EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := st.CreateCompany(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		co   *directory.Company
		n    int
		seed int64
	}{{co, n, 3}, {other, 20, 4}} {
		path := filepath.Join(t.TempDir(), "a.zip")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := archive.NewZipWriter(f, archive.Latest)
		m := archive.DefaultManifest()
		m.Mirror = true
		if _, err := generate.Write(w, generate.Options{Users: c.n, Seed: c.seed, Manifest: m}); err != nil {
			t.Fatal(err)
		}
		w.Close()
		f.Close()
		e := &engine.Engine{Store: st, Limits: archive.DefaultLimits()}
		job, err := e.Apply(ctx, c.co, path, engine.Job{By: "test"})
		if err != nil || job.Status != directory.JobCompleted {
			t.Fatalf("apply: %v, %v", job.Status, err)
		}
	}
	return co
}

func sqlitePremises(t *testing.T, n int) premisesStore {
	t.Helper()
	data := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "epicd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return premisesStore{st, fill(t, st, n), Config{Data: data, Company: "acme"}}
}

func postgresPremises(t *testing.T, n int) premisesStore {
	t.Helper()
	dsn := pgtest.FreshDSN(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return premisesStore{st, fill(t, st, n), Config{Database: dsn, Company: "Acme"}}
}

func exportDir(t *testing.T, cfg Config) (string, Stats, error) {
	t.Helper()
	dir := t.TempDir()
	w, err := archive.NewDirWriter(dir, archive.V1_3)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Export(context.Background(), cfg, w, nil)
	return dir, st, err
}

// sameAsEngineExport compares the direct read with the engine's export
// through the Store interface: the same files, byte for byte (the
// memberships as a set of lines).
func sameAsEngineExport(t *testing.T, p premisesStore, dir string) {
	t.Helper()
	want := t.TempDir()
	w, _ := archive.NewDirWriter(want, archive.V1_3)
	if _, err := engine.Export(context.Background(), p.st, p.company, w); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(want)
	for _, e := range entries {
		a, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b, _ := os.ReadFile(filepath.Join(want, e.Name()))
		if e.Name() == archive.FileMemberships {
			a, b = sortedLines(a), sortedLines(b)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from epicd export: %d bytes vs %d\n%s", e.Name(), len(a), len(b), firstDiff(a, b))
		}
	}
}

func sortedLines(b []byte) []byte {
	l := strings.Split(string(b), "\r\n")
	sort.Strings(l)
	return []byte(strings.Join(l, "\n"))
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got  " + la[i] + "\n want " + lb[i]
		}
	}
	return ""
}

func validate(t *testing.T, dir string) {
	t.Helper()
	res, err := archive.ValidateDir(dir, archive.Options{Limits: archive.DefaultLimits(), Sink: func(f archive.Finding) {
		if f.Severity == archive.Error {
			t.Errorf("finding: %v", f)
		}
	}})
	if err != nil || res.Errors > 0 {
		t.Fatalf("validate: %v, %d errors", err, res.Errors)
	}
}

func TestExportSQLite(t *testing.T) {
	p := sqlitePremises(t, 200)
	dir, st, err := exportDir(t, p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.People() != 200 || st.SchemaVersion != SchemaMax || st.MadeKeys != 0 {
		t.Errorf("stats %+v", st)
	}
	validate(t, dir)
	sameAsEngineExport(t, p, dir)
}

func TestExportPostgres(t *testing.T) {
	p := postgresPremises(t, 200)
	dir, st, err := exportDir(t, p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.People() != 200 {
		t.Errorf("stats %+v", st)
	}
	validate(t, dir)
	sameAsEngineExport(t, p, dir)
}

// Objects without an external key get KeyPrefix + their UUID, and every
// reference to them uses it.
func TestMadeKeys(t *testing.T) {
	p := sqlitePremises(t, 50)
	db, err := sql.Open("sqlite", filepath.Join(p.cfg.Data, "epicd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ek string
	var n int64
	acme := `company_id = (SELECT id FROM companies WHERE name = 'Acme')`
	db.QueryRow(`SELECT external_key FROM people ORDER BY external_key LIMIT 1`).Scan(&ek)
	for _, q := range []string{
		`UPDATE people SET external_key = '' WHERE external_key = '` + ek + `' AND ` + acme,
		`UPDATE oncall_groups SET external_key = '' WHERE rowid = (SELECT min(rowid) FROM oncall_groups WHERE ` + acme + `)`,
		`UPDATE sites SET external_key = '' WHERE rowid = (SELECT min(rowid) FROM sites WHERE ` + acme + `)`,
	} {
		r, err := db.Exec(q)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := r.RowsAffected()
		n += c
	}
	dir, st, err := exportDir(t, p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if int64(st.MadeKeys) != n || n != 3 {
		t.Errorf("made %d keys, want %d", st.MadeKeys, n)
	}
	validate(t, dir)
	users, _ := os.ReadFile(filepath.Join(dir, archive.FileUsers))
	made := regexp.MustCompile(`(?m)^` + KeyPrefix + `[0-9a-f-]{36},`).FindString(string(users))
	if made == "" {
		t.Fatalf("no made key in DS_USERS:\n%.500s", users)
	}
	devices, _ := os.ReadFile(filepath.Join(dir, archive.FileEmail))
	if !strings.Contains(string(devices), ","+strings.TrimSuffix(made, ",")+",") {
		t.Errorf("the person's devices do not name it by its made key %s", made)
	}
}

func TestSchemaVersion(t *testing.T) {
	p := sqlitePremises(t, 5)
	db, _ := sql.Open("sqlite", filepath.Join(p.cfg.Data, "epicd.db"))
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	_, _, err := exportDir(t, p.cfg)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), fmt.Sprintf("schema version 99, newer than this epic reads (versions %d to %d)", SchemaMin, SchemaMax)) {
		t.Errorf("newer schema: %v", err)
	}
	// Not an epicd database at all.
	other := filepath.Join(t.TempDir(), "other.db")
	odb, _ := sql.Open("sqlite", other)
	odb.Exec(`CREATE TABLE t (x)`)
	odb.Close()
	_, _, err = exportDir(t, Config{Database: "sqlite:" + other, Company: "Acme"})
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "has no epicd schema") {
		t.Errorf("not epicd: %v", err)
	}
}

// The migrations of this build are the ones SchemaMax was written for.
func TestSchemaMaxMatchesMigrations(t *testing.T) {
	for _, dir := range []string{"../sqlite/migrations", "../postgres/migrations"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		top := 0
		for _, e := range entries {
			if n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0]); err == nil {
				top = max(top, n)
			}
		}
		if top != SchemaMax {
			t.Errorf("%s goes up to version %d but premises reads up to %d: check the premises queries against the new migrations, then raise SchemaMax",
				dir, top, SchemaMax)
		}
	}
}

func TestErrors(t *testing.T) {
	p := sqlitePremises(t, 5)
	cfg := p.cfg
	cfg.Company = "Initech"
	_, _, err := exportDir(t, cfg)
	if err == nil || !strings.Contains(err.Error(), `has no company "Initech" (it has "Acme", "Globex")`) {
		t.Errorf("unknown company: %v", err)
	}
	_, _, err = exportDir(t, Config{Data: t.TempDir(), Company: "Acme"})
	if err == nil || !strings.Contains(err.Error(), "epicd.db: no such file") {
		t.Errorf("no database: %v", err)
	}
	_, _, err = exportDir(t, Config{Database: "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2", Company: "Acme"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("no server: %v", err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Company: "Acme"}, "names no premises database"},
		{Config{Data: "x", Database: "sqlite:y", Company: "Acme"}, "both set"},
		{Config{Database: "mysql://x", Company: "Acme"}, "cloudsync.database: write sqlite:PATH or postgres://"},
		{Config{Data: "x"}, "cloudsync.company is not set"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.cfg, err, c.want)
		}
	}
}

// The read needs no write access: the premises database file and its
// folder may be read-only.
func TestReadOnlyFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("as root, file modes do not stop writes; the test still checks the file is unchanged")
	}
	p := sqlitePremises(t, 20)
	p.st.(*sqlite.Store).Close()
	path := filepath.Join(p.cfg.Data, "epicd.db")
	before, _ := os.ReadFile(path)
	os.Chmod(path, 0o444)
	if _, _, err := exportDir(t, p.cfg); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the export changed the premises database file")
	}
}
