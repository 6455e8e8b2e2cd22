package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeBytes(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.zip")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func codes(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.File+":"+string(f.Code))
	}
	return out
}

func TestZipProblems(t *testing.T) {
	valid, err := os.ReadFile(writeZipFile(t, validArchive(Latest)))
	if err != nil {
		t.Fatal(err)
	}
	bomb := validArchive(Latest)
	bomb[FileSites] = header(FileSites) + "\n" + strings.Repeat(" ", 64<<20)
	big := validArchive(Latest)
	var b strings.Builder
	b.WriteString(header(FileSites) + "\n")
	for i := 0; b.Len() < 3<<20; i++ {
		b.WriteString(row(FileSites, "EXTERNAL_KEY", "S"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+itoa(i), "SITENAME", "N"+itoa(i)) + "\n")
	}
	big[FileSites] = b.String()

	damaged := bytes.Clone(valid)
	// Corrupt the compressed bytes of the first entry (after its local header).
	for i := 60; i < 90; i++ {
		damaged[i] ^= 0x55
	}

	tests := []struct {
		name string
		path func() string
		lim  func(*Limits)
		want []string
	}{
		{"not a zip", func() string { return writeBytes(t, []byte("EXTERNAL_KEY,SITENAME\nS1,Berlin\n")) }, nil, []string{":NOT_A_ZIP"}},
		{"truncated zip", func() string { return writeBytes(t, valid[:len(valid)/2]) }, nil, []string{":ZIP_CORRUPT"}},
		{"archive over the size limit", func() string { return writeBytes(t, valid) },
			func(l *Limits) { l.MaxArchiveBytes = 1000 }, []string{":ARCHIVE_TOO_LARGE"}},
		{"zip bomb ratio", func() string { return writeZipFile(t, bomb) }, nil, []string{"DS_SITES.csv:COMPRESSION_RATIO"}},
		{"entry inflates past the limit", func() string { return writeZipFile(t, big) },
			func(l *Limits) { l.MaxEntryBytes = 2 << 20 }, []string{"DS_SITES.csv:ENTRY_TOO_LARGE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := DefaultLimits()
			if tt.lim != nil {
				tt.lim(&lim)
			}
			got, _ := validatePath(t, tt.path(), lim)
			if diff := cmp.Diff(tt.want, codes(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %v", diff, got)
			}
		})
	}
	t.Run("damaged entry", func(t *testing.T) {
		got, _ := validatePath(t, writeBytes(t, damaged), DefaultLimits())
		if len(got) == 0 || got[0].Code != CodeZipCorrupt {
			t.Errorf("findings = %v; want ZIP_CORRUPT first", got)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestMillionFindings: an archive with 1,000,000 bad values is checked to
// the end, every finding reaches the sink, and the heap does not grow with
// the number of findings.
func TestMillionFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("large archive")
	}
	const n = 1_000_000
	files := validArchive(Latest)
	var b strings.Builder
	b.WriteString(header(FileTextPhone) + "\n")
	// Every row has a bad phone number; keys and device names are unique.
	for i := 0; i < n; i++ {
		b.WriteString("K" + itoa(i) + ",x,U" + itoa(i) + ",SMS Phone,ACTIVE,N,0,0,N,Y,Y,\n")
	}
	files[FileTextPhone] = b.String()
	path := writeZipFile(t, files)
	b.Reset()
	files = nil

	count := 0
	var peak uint64
	var ms runtime.MemStats
	res, err := ValidateZip(path, Options{Limits: DefaultLimits(), Sink: func(f Finding) {
		if f.Code == CodeBadPhone {
			count++
		}
		if count%100_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("BAD_PHONE findings = %d, want %d", count, n)
	}
	if res.Errors != n {
		t.Errorf("Errors = %d, want %d", res.Errors, n)
	}
	// The key sets of a million rows take tens of MiB; findings must add nothing.
	if peak > 400<<20 {
		t.Errorf("heap in use reached %d MiB", peak>>20)
	}
	t.Logf("peak heap in use %d MiB", peak>>20)
}
