package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/sqlite"
)

func benchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("EPIC_BENCH_USERS")); err == nil {
		return n
	}
	return 10_000
}

// BenchmarkApplySQLite measures the first apply of a generated archive into
// an empty company, and the re-apply that changes nothing.
func BenchmarkApplySQLite(b *testing.B) {
	n := benchUsers()
	dir := b.TempDir()
	path := filepath.Join(dir, "gen.zip")
	writeGenerated(b, path, n)
	ctx := context.Background()
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "epicd.db"))
			if err != nil {
				b.Fatal(err)
			}
			co := &directory.Company{Name: "Acme", EpicEnabled: true, Config: directory.DefaultConfig()}
			if err := st.CreateCompany(ctx, co); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			j, err := (&engine.Engine{Store: st, Limits: archive.DefaultLimits()}).Apply(ctx, co, path, engine.Job{})
			if err != nil || j.Status != directory.JobCompleted {
				b.Fatalf("apply: %v %v", err, j)
			}
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
	})
}

func writeGenerated(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	if _, err := generateWrite(w, n); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
