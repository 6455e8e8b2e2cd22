package queue_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/queue"
	"github.com/epicsync/epic/internal/sqlite"
)

// stores are the Store implementations every queue test runs against.
var stores = []struct {
	name string
	open func(t *testing.T) directory.Store
}{
	{"sqlite", func(t *testing.T) directory.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "epicd.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
	{"postgres", func(t *testing.T) directory.Store {
		st, err := postgres.Open(context.Background(), pgtest.FreshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// eachStore runs fn once per store, each with a fresh store and service.
func eachStore(t *testing.T, fn func(t *testing.T, s *queue.Service)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			store := st.open(t)
			t.Cleanup(func() { store.Close() })
			fn(t, newService(t, store))
		})
	}
}

func newService(t *testing.T, store directory.Store) *queue.Service {
	return &queue.Service{Store: store, Engine: &engine.Engine{Store: store, Limits: archive.DefaultLimits()},
		TempDir: t.TempDir()}
}

func addCompany(t *testing.T, st directory.Store, name string) *directory.Company {
	t.Helper()
	co := &directory.Company{Name: name, EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := st.CreateCompany(context.Background(), co); err != nil {
		t.Fatal(err)
	}
	return co
}

// genZip is an `epic generate` archive of users people, as a zip.
func genZip(t testing.TB, users int, seed int64) []byte {
	t.Helper()
	var b bytes.Buffer
	w := archive.NewZipWriter(&b, archive.Latest)
	if _, err := generate.Write(w, generate.Options{Users: users, Seed: seed, Manifest: archive.DefaultManifest()}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipOf is a zip of the given files (name -> content).
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func intake(t *testing.T, s *queue.Service, co *directory.Company, name string, data []byte) *directory.Job {
	t.Helper()
	j, err := s.Intake(t.Context(), co, name, "uploader", "epic/test", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Intake %s: %v", name, err)
	}
	return j
}

func job(t *testing.T, st directory.Store, co *directory.Company, id uuid.UUID) *directory.Job {
	t.Helper()
	j, err := st.Job(t.Context(), co.ID, id)
	if err != nil {
		t.Fatalf("Job %s: %v", id, err)
	}
	return j
}

// newest is the job a batch run must pick: greatest intake time, ties by
// greater ID.
func newest(jobs []*directory.Job) *directory.Job {
	return slices.MaxFunc(jobs, func(a, b *directory.Job) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
}

// exported is a company's directory as `epicd export` writes it: file ->
// sorted lines. Two companies with equal exports have equal directories
// (IDs aside).
func exported(t *testing.T, st directory.Store, co *directory.Company) map[string][]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "export")
	w, err := archive.NewDirWriter(dir, archive.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Export(context.Background(), st, co, w); err != nil {
		t.Fatalf("Export: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		slices.Sort(lines)
		out[e.Name()] = lines
	}
	return out
}

// people counts the company's people.
func people(t *testing.T, st directory.Store, co *directory.Company) int {
	t.Helper()
	n := 0
	err := st.View(context.Background(), co.ID, func(v directory.View) error {
		return v.People(func(*directory.Person) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds, failing after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// renameColumn returns the zip data with the column from of file renamed
// to to in its header.
func renameColumn(t *testing.T, data []byte, file, from, to string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	renamed := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if f.Name == file {
			head, rest, _ := strings.Cut(s, "\n")
			cols := strings.Split(head, ",")
			for i, c := range cols {
				if strings.Trim(c, `"`) == from {
					cols[i], renamed = to, true
				}
			}
			s = strings.Join(cols, ",") + "\n" + rest
		}
		files[f.Name] = s
	}
	if !renamed {
		t.Fatalf("%s has no column %s", file, from)
	}
	return zipOf(t, files)
}
