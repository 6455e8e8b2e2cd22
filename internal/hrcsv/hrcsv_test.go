package hrcsv

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/epicsync/epic/internal/mapping"
	"github.com/epicsync/epic/internal/source"
)

var update = flag.Bool("update", false, "rewrite the golden archives under testdata/*/expected")

// load reads [csv] and [mapping] of an epic.toml.
func load(t *testing.T, path string) (Config, *mapping.Mapper) {
	t.Helper()
	var c Config
	if err := source.DecodeSection(path, "csv", &c); err != nil {
		t.Fatal(err)
	}
	c.Resolve(path)
	mc, err := mapping.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(mc)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestGolden exports each testdata/<case>/epic.toml and compares the
// archive with testdata/<case>/expected, and the report with report.txt.
func TestGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*/epic.toml")
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, cfgPath := range cases {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, m := load(t, cfgPath)
			b := mapping.NewBuilder(m)
			rep, err := Export(c, m, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "archive")
			if _, err := b.WriteDir(out); err != nil {
				t.Fatal(err)
			}
			report := "skipped:\n" + strings.Join(rep.Skipped, "\n") + "\nwarnings:\n" + strings.Join(rep.Warnings, "\n") + "\n"
			want := filepath.Join(dir, "expected")
			if *update {
				os.RemoveAll(want)
				if err := os.CopyFS(want, os.DirFS(out)); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "report.txt"), []byte(report), 0o644)
				return
			}
			if diff := cmp.Diff(readDir(t, want), readDir(t, out)); diff != "" {
				t.Errorf("archive differs from %s (-want +got; go test -update rewrites it):\n%s", want, diff)
			}
			wantRep, _ := os.ReadFile(filepath.Join(dir, "report.txt"))
			if diff := cmp.Diff(string(wantRep), report); diff != "" {
				t.Errorf("report differs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBadFiles: every problem of the file stops the export with a message
// that names the line, and nothing is published.
func TestBadFiles(t *testing.T) {
	mc := mapping.Config{Person: map[string]string{
		"EXTERNAL_KEY": "{id}", "USER_ID": "{login}", "FIRST_NAME": "{first}", "LAST_NAME": "{last}", "SITE_NAME": "HQ",
	}}
	m, err := mapping.New(mc)
	if err != nil {
		t.Fatal(err)
	}
	const head = "id,login,first,last\n"
	for _, c := range []struct {
		name, body, want string
	}{
		{"empty", "", "has no header line"},
		{"missing column", "id,login,first\n1,a,A\n", `no column "last"`},
		{"duplicate header", "id,login,first,last,Login\n", `"Login" appears twice`},
		{"unterminated quote", head + "1,a,\"A,B\n2,b,B,B\n", "extraneous or missing"},
		{"field count", head + "1,a,A,A\n2,b,B\n", "wrong number of fields"},
		{"invalid utf-8", head + "1,a,\xff,A\n", "line 2: the text is not UTF-8"},
		{"duplicate key", head + "1,a,A,A\n1,b,B,B\n", "EXTERNAL_KEY \"1\""},
		{"duplicate user id", head + "1,a,A,A\n2,A,B,B\n", "USER_ID \"A\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "hr.csv")
			os.WriteFile(p, []byte(c.body), 0o600)
			_, err := Export(Config{File: p}, m, mapping.NewBuilder(m), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Export = %v, want an error saying %q", err, c.want)
			}
		})
	}
	_, err = Export(Config{File: filepath.Join(t.TempDir(), "nope.csv")}, m, mapping.NewBuilder(m), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	for _, c := range []Config{{}, {File: "x", Delimiter: "ab"}, {File: "x", Encoding: "ebcdic"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
}

func FuzzExport(f *testing.F) {
	f.Add("id,login,first,last\n1,a,A,A\n")
	f.Add("id,login,first,last\n1,a,\"A\nB\",A\n")
	mc := mapping.Config{Person: map[string]string{
		"EXTERNAL_KEY": "{id}", "USER_ID": "{login}", "FIRST_NAME": "{first}", "LAST_NAME": "{last:phone('US')}", "SITE_NAME": "HQ",
	}}
	m, err := mapping.New(mc)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(t.TempDir(), "hr.csv")
		os.WriteFile(p, []byte(body), 0o600)
		_, _ = Export(Config{File: p}, m, mapping.NewBuilder(m), nil)
	})
}
