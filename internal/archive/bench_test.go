package archive_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/generate"
)

// BenchmarkValidateZip validates a generated archive of 100,000 people
// (about 680,000 rows; EPIC_BENCH_USERS sets another number); scripts/bench
// does the same for a million with the real binary and measures peak memory.
func BenchmarkValidateZip(b *testing.B) {
	users := 100_000
	if n, err := strconv.Atoi(os.Getenv("EPIC_BENCH_USERS")); err == nil {
		users = n
	}
	path := filepath.Join(b.TempDir(), "a.zip")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := archive.NewZipWriter(f, archive.Latest)
	if _, err := generate.Write(w, generate.Options{Users: users, Seed: 1, Manifest: archive.DefaultManifest()}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var rows int
	for b.Loop() {
		res, err := archive.ValidateZip(path, archive.Options{Limits: archive.DefaultLimits()})
		if err != nil {
			b.Fatal(err)
		}
		if res.Errors+res.Warnings > 0 {
			b.Fatalf("%d errors, %d warnings", res.Errors, res.Warnings)
		}
		rows = res.Rows()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
