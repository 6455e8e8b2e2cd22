package archive

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// The parsers of outside input must never panic or hang, whatever they read.
// Seeds live in f.Add calls and in testdata/fuzz/<FuzzName>/.

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a,b\nc,d\n", "a,\"b\nc\",d\r\n", "\"unterminated\nx,y\n", "a\"b,c\rd,e", "\xEF\xBB\xBFh\n", "\xFF\xFE\x00",
		"\"a\"b,\"c\"\"d\"\n", "\r\n\r\n,,,\n", "x,\"\r\ny\"z\n,\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		records, lastLine := 0, 0
		for r.Next() {
			records++
			if r.Line() <= lastLine && r.Issue() == nil {
				// Lines only go back after recovering from an unterminated quote.
				t.Fatalf("record %d starts at line %d, after a record at line %d", records, r.Line(), lastLine)
			}
			lastLine = r.Line()
			n := 0
			for _, fl := range r.Fields() {
				n += len(fl)
			}
			if n > len(data) {
				t.Fatalf("record holds %d bytes of a %d byte input", n, len(data))
			}
			if records > len(data)+1 {
				t.Fatalf("%d records from %d bytes", records, len(data))
			}
		}
		if r.Err() != nil {
			t.Fatalf("Err = %v on an in-memory reader", r.Err())
		}
	})
}

func FuzzManifest(f *testing.F) {
	f.Add([]byte(manifestXML("1.3", "Y")))
	f.Add([]byte("<manifest><autoDataSyncVersion>1.0</autoDataSyncVersion></manifest>junk"))
	f.Add([]byte("<?xml version=\"1.0\"?><MANIFEST><Mirror>N</Mirror><x><y/></x></MANIFEST>"))
	f.Add([]byte("<manifest><mirror>Y</mirror><mirror>N</mirror>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, findings := ParseManifest(bytes.NewReader(data))
		for _, fd := range findings {
			if fd.Code == "" || fd.Message == "" {
				t.Fatalf("finding without code or message: %+v", fd)
			}
		}
		errs := 0
		for _, fd := range findings {
			if fd.Severity == Error {
				errs++
			}
		}
		if errs == 0 {
			if _, err := ParseVersion(string(m.Version)); err != nil {
				t.Fatalf("no error, but version %q is not supported", m.Version)
			}
			// A clean manifest survives a round trip.
			m2, f2 := ParseManifest(bytes.NewReader(m.Marshal()))
			if len(f2) != 0 || m2.Version != m.Version || m2.Mirror != m.Mirror || strings.Join(m2.DeviceNamesToIgnore, "|") != strings.Join(m.DeviceNamesToIgnore, "|") {
				t.Fatalf("round trip changed %+v into %+v (%v)", m, m2, f2)
			}
		}
	})
}

func FuzzZip(f *testing.F) {
	valid, err := os.ReadFile(writeZipFile(f, validArchive(Latest)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("not a zip"))
	lim := Limits{MaxArchiveBytes: 1 << 20, MaxEntryBytes: 1 << 20, MaxRatio: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ValidateZipReader(bytes.NewReader(data), int64(len(data)), Options{Limits: lim, Sink: func(fd Finding) {
			if fd.Code == "" || fd.Severity == "" {
				t.Fatalf("finding without code or severity: %+v", fd)
			}
		}})
		if err != nil {
			t.Fatalf("ValidateZipReader: %v", err)
		}
		if res.Errors+res.Warnings == 0 && res.Manifest.Version == "" {
			t.Fatalf("clean result without a manifest version")
		}
	})
}
