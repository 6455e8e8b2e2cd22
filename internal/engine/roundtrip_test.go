package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/generate"
)

// generated writes a generated archive of n people to a zip.
func generated(t *testing.T, n int, seed int64, mirror bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gen.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	m := archive.DefaultManifest()
	m.Mirror = mirror
	if _, err := generate.Write(w, generate.Options{Users: n, Seed: seed, Manifest: m}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func allOutcomes(t *testing.T, j *directory.Job, want string) {
	t.Helper()
	bad := 0
	for _, o := range outcomes(t, j) {
		if !strings.HasSuffix(o, ":"+want) {
			if bad < 10 {
				t.Errorf("%s, want %s", o, want)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d rows not %s; details: %v", bad, want, firstDetails(j))
	}
}

func firstDetails(j *directory.Job) []directory.Detail {
	return j.Details[:min(len(j.Details), 5)]
}

// A generated archive applies cleanly to a new company; applied again it
// changes nothing; and the company's export, applied again, changes nothing.
func TestGeneratedRoundTrip(t *testing.T) {
	defer engine.SetFlushEvery(97)() // devices and custom values go in many chunks
	eachStore(t, func(t *testing.T, e *env) {
		path := generated(t, 300, 3, true)
		j, err := e.eng.Apply(e.ctx, e.company, path, engineJob())
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != directory.JobCompleted {
			t.Fatalf("first apply: %s, details %v", j.Status, firstDetails(j))
		}
		allOutcomes(t, j, "INSERTED")
		j, err = e.eng.Apply(e.ctx, e.company, path, engineJob())
		if err != nil {
			t.Fatal(err)
		}
		allOutcomes(t, j, "UNCHANGED")

		dir := t.TempDir()
		w, err := archive.NewDirWriter(dir, archive.Latest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := engine.Export(e.ctx, e.store, e.company, w); err != nil {
			t.Fatal(err)
		}
		var findings []archive.Finding
		if _, err := archive.ValidateDir(dir, archive.Options{Limits: archive.DefaultLimits(), Sink: func(f archive.Finding) { findings = append(findings, f) }}); err != nil {
			t.Fatal(err)
		}
		if len(findings) > 0 {
			t.Fatalf("the export does not validate clean: %v", findings[:min(len(findings), 5)])
		}
		zipPath := filepath.Join(t.TempDir(), "export.zip")
		zf, _ := os.Create(zipPath)
		zw := archive.NewZipWriter(zf, archive.Latest)
		if err := archive.PackDir(dir, zw); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		zf.Close()
		j, err = e.eng.Apply(e.ctx, e.company, zipPath, engineJob())
		if err != nil {
			t.Fatal(err)
		}
		allOutcomes(t, j, "UNCHANGED")
	})
}
