package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/directory/storetest"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) directory.Store {
		return open(t, filepath.Join(t.TempDir(), "epic.db"))
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epic.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	c := &directory.Company{Name: "Acme Corp", EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	site := &directory.Site{Common: directory.Common{ID: uuid.New(), ExternalKey: "S1", Owned: true}, Name: "HQ"}
	p := &directory.Person{Common: directory.Common{ID: uuid.New(), ExternalKey: "P1"}, TargetName: "jdoe", SiteID: site.ID}
	err = s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		return tx.PutPeople(true, []*directory.Person{p})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	got, err := s.Company(t.Context(), "acme corp")
	if err != nil {
		t.Fatalf("Company after reopening: %v", err)
	}
	if got.ID != c.ID {
		t.Fatalf("Company after reopening has ID %v, want %v", got.ID, c.ID)
	}
	var people []*directory.Person
	err = s.View(t.Context(), c.ID, func(v directory.View) error {
		return v.People(func(p *directory.Person) error { people = append(people, p); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 1 || people[0].ID != p.ID || people[0].TargetName != "jdoe" {
		t.Fatalf("people after reopening = %+v, want jdoe", people)
	}
	// Migrating a current schema again changes nothing.
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
}

func TestOpenMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-folder")
	_, err := Open(t.Context(), filepath.Join(dir, "epic.db"))
	if err == nil {
		t.Fatal("Open in a missing folder succeeded")
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open in a missing folder: %q; want it to name the folder and say it does not exist", err)
	}
}

// SQLite's lower() folds ASCII only; company and object names are folded
// in Go, so non-ASCII letters compare case-insensitively too.
func TestUnicodeNames(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "epic.db"))
	c := &directory.Company{Name: "Énergie Öst"}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Company(t.Context(), "énergie öst"); err != nil || got.ID != c.ID {
		t.Errorf("Company(lower case) = %v, %v", got, err)
	}
	if err := s.CreateCompany(t.Context(), &directory.Company{Name: "ÉNERGIE ÖST"}); !errors.Is(err, directory.ErrExists) {
		t.Errorf("CreateCompany(upper case) = %v, want ErrExists", err)
	}
	site := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "Zürich"}
	err := s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		return tx.PutPeople(true, []*directory.Person{
			{Common: directory.Common{ID: uuid.New()}, TargetName: "jürgen", SiteID: site.ID},
			{Common: directory.Common{ID: uuid.New()}, TargetName: "JÜRGEN", SiteID: site.ID},
		})
	})
	if !errors.Is(err, directory.ErrExists) {
		t.Errorf("two people jürgen and JÜRGEN: %v, want ErrExists", err)
	}
}

// A path is a file name, not a URI: spaces, '?', '#' and '%' are kept.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b%20c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "epic?x=1#y.db")
	s := open(t, path)
	if err := s.CreateCompany(t.Context(), &directory.Company{Name: "Acme Corp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "epic?x=1#y.db") {
			t.Errorf("unexpected file %q beside the database", e.Name())
		}
	}
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "epic.db"))
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"synchronous":  "2", // FULL
		"busy_timeout": "10000",
	} {
		var got string
		if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}
