package generate

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/archive/refdata"
)

// writeDir generates an archive folder and returns its path and stats.
func writeDir(t testing.TB, dir string, v archive.Version, users int, seed int64) Stats {
	t.Helper()
	w, err := archive.NewDirWriter(dir, v)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Write(w, Options{Users: users, Seed: seed, Manifest: archive.DefaultManifest()})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return st
}

func files(v archive.Version) []string {
	names := []string{archive.ManifestName}
	for _, l := range archive.Layouts(v) {
		names = append(names, l.Name)
	}
	return names
}

func TestDeterministic(t *testing.T) {
	for _, v := range archive.Versions {
		t.Run(string(v), func(t *testing.T) {
			a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
			writeDir(t, a, v, 400, 7)
			writeDir(t, b, v, 400, 7)
			writeDir(t, c, v, 400, 8)
			differs := map[string]bool{}
			for _, name := range files(v) {
				fa, fb, fc := read(t, a, name), read(t, b, name), read(t, c, name)
				if !bytes.Equal(fa, fb) {
					t.Errorf("%s differs between two runs with the same seed", name)
				}
				differs[name] = !bytes.Equal(fa, fc)
			}
			for _, name := range []string{archive.FileUsers, archive.FileEmail, archive.FileCustomValues, archive.FileMemberships} {
				if !differs[name] {
					t.Errorf("%s is the same for seeds 7 and 8", name)
				}
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden pins the output of a small archive, so that a change of the
// data (or of the random streams under it) is seen and deliberate: run
// with -update to accept it. Files are stored byte for byte, CR LF too.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, archive.V1_3, 30, 1)
	var got bytes.Buffer
	for _, name := range files(archive.V1_3) {
		fmt.Fprintf(&got, "-- %s --\n", name)
		got.Write(read(t, dir, name))
	}
	path := filepath.Join("testdata", "golden-1.3-30.txt")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(g), len(w)) {
			if i >= len(g) || i >= len(w) || g[i] != w[i] {
				t.Fatalf("output differs from %s at line %d (run with -update if the change is meant):\n got: %q\nwant: %q",
					path, i+1, at(g, i), at(w, i))
			}
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}

func read(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValid(t *testing.T) {
	for _, v := range archive.Versions {
		for _, users := range []int{0, 1, 2, 3, 50, 5000} {
			t.Run(fmt.Sprintf("%s/%d", v, users), func(t *testing.T) {
				dir := t.TempDir()
				st := writeDir(t, dir, v, users, int64(users)+1)
				var first []archive.Finding
				n := 0
				res, err := archive.ValidateDir(dir, archive.Options{
					Limits: archive.DefaultLimits(),
					Sink: func(f archive.Finding) {
						n++
						if len(first) < 5 {
							first = append(first, f)
						}
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				if n > 0 || res.Errors > 0 || res.Warnings > 0 {
					for _, f := range first {
						t.Errorf("%s (value %q)", f, f.Value)
					}
					t.Fatalf("%d findings (%d errors, %d warnings)", n, res.Errors, res.Warnings)
				}
				if res.Manifest.Version != v {
					t.Errorf("manifest version %q, want %q", res.Manifest.Version, v)
				}
				if len(res.Files) != len(archive.Layouts(v)) {
					t.Errorf("validator read %d files, want %d", len(res.Files), len(archive.Layouts(v)))
				}
				for _, f := range res.Files {
					if f.Rows != st.Rows[f.Layout.Name] || f.Upserts != f.Rows {
						t.Errorf("%s: validator counted %d rows (%d upserts), Stats say %d", f.Name, f.Rows, f.Upserts, st.Rows[f.Layout.Name])
					}
				}
				if got := st.Rows[archive.FileUsers]; got != users {
					t.Errorf("%d people, want %d", got, users)
				}
			})
		}
	}
}

// table is a CSV file read into maps by column name.
func table(t *testing.T, dir, name string) []map[string]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(read(t, dir, name)))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func TestShape(t *testing.T) {
	const users = 1000
	dir := t.TempDir()
	st := writeDir(t, dir, archive.V1_3, users, 42)

	people := table(t, dir, archive.FileUsers)
	if len(people) != users {
		t.Fatalf("%d people, want %d", len(people), users)
	}
	index := map[string]int{} // USER_ID -> row
	var inactive, supervised, twoRoles, nonASCII, apostrophe int
	for i, p := range people {
		if p["EXTERNAL_KEY"] != fmt.Sprintf("U%07d", i+1) {
			t.Fatalf("row %d: EXTERNAL_KEY %q", i, p["EXTERNAL_KEY"])
		}
		index[p["USER_ID"]] = i
		if p["STATUS"] == "INACTIVE" {
			inactive++
		}
		if p["SUPERVISOR_LIST"] != "" {
			supervised++
			for _, s := range strings.Split(p["SUPERVISOR_LIST"], ",") {
				if j, ok := index[s]; !ok || j >= i {
					t.Errorf("%s: supervisor %q is not an earlier person", p["USER_ID"], s)
				}
			}
		}
		if strings.Contains(p["ROLE_LIST"], ",") {
			twoRoles++
		}
		name := p["FIRST_NAME"] + p["LAST_NAME"]
		if utf8.RuneCountInString(name) != len(name) {
			nonASCII++
		}
		if strings.Contains(p["LAST_NAME"], "'") {
			apostrophe++
		}
	}
	for what, n := range map[string]int{"inactive": inactive, "supervised": supervised, "two roles": twoRoles, "non-ASCII names": nonASCII, "apostrophes": apostrophe} {
		if n == 0 || n > users/2 {
			t.Errorf("%d people %s, want some but not most", n, what)
		}
	}

	// Devices: 1-4 per person, orders 0..n-1, distinct names.
	type dev struct{ names, orders map[string]bool }
	devs := map[string]*dev{}
	kindsSeen := map[string]int{}
	for _, l := range archive.Layouts(archive.V1_3) {
		if l.DeviceType == "" {
			continue
		}
		for _, d := range table(t, dir, l.Name) {
			p := devs[d["USER_KEY"]]
			if p == nil {
				p = &dev{names: map[string]bool{}, orders: map[string]bool{}}
				devs[d["USER_KEY"]] = p
			}
			if p.names[d["DEVICE_NAME"]] || p.orders[d["DEVICE_ORDER"]] {
				t.Errorf("%s: duplicate device name or order in %v", d["USER_KEY"], d)
			}
			p.names[d["DEVICE_NAME"]], p.orders[d["DEVICE_ORDER"]] = true, true
			kindsSeen[d["DEVICE_NAME"]]++
		}
	}
	if len(devs) != users {
		t.Errorf("%d people have devices, want all %d", len(devs), users)
	}
	for key, p := range devs {
		n := len(p.names)
		if n < 1 || n > 4 {
			t.Errorf("%s has %d devices", key, n)
		}
		for o := range n {
			if !p.orders[strconv.Itoa(o)] {
				t.Errorf("%s: DEVICE_ORDER %d missing from %v", key, o, p.orders)
			}
		}
	}
	for k := range kinds {
		if kindsSeen[kinds[k].name] == 0 {
			t.Errorf("no device named %s", kinds[k].name)
		}
	}

	sitesRows := table(t, dir, archive.FileSites)
	countries, zones := map[string]bool{}, map[string]bool{}
	for _, s := range sitesRows {
		countries[s["COUNTRY"]], zones[s["SITE_TIMEZONE"]] = true, true
	}
	if len(countries) < 3 || len(zones) < 3 {
		t.Errorf("%d countries and %d time zones, want at least 3 of each", len(countries), len(zones))
	}

	// Groups: about one per 25 people, 3-40 distinct people each.
	groups := table(t, dir, archive.FileGroups)
	if len(groups) != users/25 {
		t.Errorf("%d groups, want %d", len(groups), users/25)
	}
	shiftsOf := map[string]int{}
	for _, s := range table(t, dir, archive.FileTeams) {
		shiftsOf[s["GROUP_KEY"]]++
	}
	people_ := map[string]map[string]bool{}
	seq := map[string]int{}
	types := map[string]int{}
	for _, m := range table(t, dir, archive.FileMemberships) {
		team := m["TEAM_KEY"]
		seq[team]++
		if m["MEMBER_SEQUENCE_NUMBER"] != strconv.Itoa(seq[team]) {
			t.Errorf("%s: sequence %s, want %d", team, m["MEMBER_SEQUENCE_NUMBER"], seq[team])
		}
		types[m["MEMBER_TYPE"]]++
		g := team[:strings.IndexByte(team, '_')]
		if m["MEMBER_TYPE"] == "GROUP" && m["MEMBER_KEY"] <= g {
			t.Errorf("%s holds group %s: groups hold only later groups", team, m["MEMBER_KEY"])
		}
		if m["MEMBER_TYPE"] == "PERSON" {
			if people_[g] == nil {
				people_[g] = map[string]bool{}
			}
			people_[g][m["MEMBER_KEY"]] = true
		}
	}
	for _, g := range groups {
		key := g["EXTERNAL_KEY"]
		if n := len(people_[key]); n < 3 || n > 40 {
			t.Errorf("group %s has %d people", key, n)
		}
		if n := shiftsOf[key]; n < 1 || n > 3 {
			t.Errorf("group %s has %d shifts", key, n)
		}
	}
	for _, typ := range []string{"PERSON", "DEVICE", "GROUP"} {
		if types[typ] == 0 {
			t.Errorf("no %s member", typ)
		}
	}

	// Some values must be quoted: lists, addresses, departments.
	quoted := 0
	for _, name := range files(archive.V1_3)[1:] {
		quoted += bytes.Count(read(t, dir, name), []byte(`,"`))
	}
	if quoted == 0 {
		t.Error("no quoted value in any file")
	}
	total := 0
	for _, n := range st.Rows {
		total += n
	}
	t.Logf("%d people: %d rows %v", users, total, st.Rows)
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range sites {
		if seen[strings.ToLower(s.name)] {
			t.Errorf("site %s twice", s.name)
		}
		seen[strings.ToLower(s.name)] = true
		if _, ok := refdata.TimeZone(s.tz); !ok {
			t.Errorf("%s: time zone %q", s.name, s.tz)
		}
		if _, ok := refdata.Language(s.lang); !ok {
			t.Errorf("%s: language %q", s.name, s.lang)
		}
		if !refdata.CountryName(s.country) || !refdata.CountryCode(s.cc) {
			t.Errorf("%s: country %q / %q", s.name, s.country, s.cc)
		}
		for _, tmpl := range []string{s.land, s.mobile} {
			if strings.Count(tmpl, "N") > 19 || len(tmpl) > 30 || strings.Trim(tmpl, "0123456789()+-. N") != "" {
				t.Errorf("%s: phone template %q", s.name, tmpl)
			}
		}
	}
	for _, l := range overrideLanguages {
		if _, ok := refdata.Language(l); !ok {
			t.Errorf("override language %q", l)
		}
	}
	for c := range nameTables {
		for _, names := range nameTables[c] {
			for _, n := range names {
				if n.stem == "" || strings.Trim(n.stem, "abcdefghijklmnopqrstuvwxyz") != "" {
					t.Errorf("name %q has stem %q", n.text, n.stem)
				}
			}
		}
	}
}

func TestNegativeUsers(t *testing.T) {
	w, err := archive.NewDirWriter(t.TempDir(), archive.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(w, Options{Users: -1}); err == nil {
		t.Error("Write accepted -1 people")
	}
}

// TestMillion generates a million people once and reports time, rows and
// bytes. It runs only with EPIC_GENERATE_1M=1; it asserts nothing about
// speed (the benchmark measures that).
func TestMillion(t *testing.T) {
	if os.Getenv("EPIC_GENERATE_1M") != "1" {
		t.Skip("set EPIC_GENERATE_1M=1 to generate a million people")
	}
	dir := t.TempDir()
	start := time.Now()
	st := writeDir(t, dir, archive.Latest, 1_000_000, 1)
	elapsed := time.Since(start)
	rows, size := 0, int64(0)
	for _, name := range files(archive.Latest) {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
		rows += st.Rows[name]
		t.Logf("%-30s %9d rows %12d bytes", name, st.Rows[name], fi.Size())
	}
	t.Logf("1,000,000 people: %d rows, %d bytes in %s (%.0f rows/s)", rows, size, elapsed, float64(rows)/elapsed.Seconds())
	if os.Getenv("EPIC_GENERATE_1M_VALIDATE") == "1" {
		start = time.Now()
		res, err := archive.ValidateDir(dir, archive.Options{Limits: archive.DefaultLimits()})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("validated in %s: %d errors, %d warnings", time.Since(start), res.Errors, res.Warnings)
		if res.Errors+res.Warnings > 0 {
			t.Errorf("%d findings", res.Errors+res.Warnings)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	const users = 100_000
	dir := b.TempDir()
	rows := 0
	for b.Loop() {
		st := writeDir(b, dir, archive.Latest, users, 1)
		rows = 0
		for _, n := range st.Rows {
			rows += n
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows), "rows/op")
}
