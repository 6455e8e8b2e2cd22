package generate

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"maps"
	"math"
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

// writeOpt generates an archive folder from opt (Manifest defaulted).
func writeOpt(t testing.TB, dir string, v archive.Version, opt Options) Stats {
	t.Helper()
	w, err := archive.NewDirWriter(dir, v)
	if err != nil {
		t.Fatal(err)
	}
	opt.Manifest = archive.DefaultManifest()
	st, err := Write(w, opt)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return st
}

// validateClean validates dir and fails on any finding; it checks the
// validator's row counts against st.
func validateClean(t *testing.T, dir string, st Stats) {
	t.Helper()
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
	for _, f := range res.Files {
		if f.Rows != st.Rows[f.Layout.Name] {
			t.Errorf("%s: validator counted %d rows, Stats say %d", f.Name, f.Rows, st.Rows[f.Layout.Name])
		}
	}
}

func TestVariantValid(t *testing.T) {
	type pct struct{ change, add, drop float64 }
	for _, v := range []archive.Version{archive.V1_3, archive.V1_0} {
		for _, users := range []int{0, 3, 50, 2000} {
			for _, p := range []pct{{1, 1, 1}, {10, 10, 10}, {0, 0, 90}, {50, 0, 50}} {
				t.Run(fmt.Sprintf("%s/%d/%g-%g-%g", v, users, p.change, p.add, p.drop), func(t *testing.T) {
					dir := t.TempDir()
					st := writeOpt(t, dir, v, Options{Users: users, Seed: int64(users) + 3,
						ChangePercent: p.change, AddPercent: p.add, DropPercent: p.drop})
					validateClean(t, dir, st)
					round := func(x float64) int { return int(math.Round(float64(users) * x / 100)) }
					// Rounding may ask for more changed people than are left:
					// the dropped ones win.
					wantChanged := min(round(p.change), users-round(p.drop))
					if st.Changed != wantChanged || st.Added != round(p.add) || st.Dropped != round(p.drop) {
						t.Errorf("Stats say %d changed, %d added, %d dropped; want %d, %d, %d",
							st.Changed, st.Added, st.Dropped, wantChanged, round(p.add), round(p.drop))
					}
					if got, want := st.Rows[archive.FileUsers], users-st.Dropped+st.Added; got != want {
						t.Errorf("%d people, want %d", got, want)
					}
					if got := len(table(t, dir, archive.FileUsers)); got != st.Rows[archive.FileUsers] {
						t.Errorf("DS_USERS.csv holds %d rows, Stats say %d", got, st.Rows[archive.FileUsers])
					}
					base := writeDir(t, t.TempDir(), v, users, int64(users)+3)
					for _, name := range []string{archive.FileGroups, archive.FileTeams, archive.FileSites} {
						if st.Rows[name] != base.Rows[name] {
							t.Errorf("%s: %d rows, the base has %d", name, st.Rows[name], base.Rows[name])
						}
					}
				})
			}
		}
	}
}

// TestVariantRows compares a variant with its base row by row.
func TestVariantRows(t *testing.T) {
	const users, seed = 2000, 11
	v := archive.V1_3
	baseDir, varDir := t.TempDir(), t.TempDir()
	writeDir(t, baseDir, v, users, seed)
	opt := Options{Users: users, Seed: seed, ChangePercent: 10, AddPercent: 10, DropPercent: 10}
	st := writeOpt(t, varDir, v, opt)
	va := newVariant(opt)

	// The variant is the same on a second run.
	again := t.TempDir()
	writeOpt(t, again, v, opt)
	for _, name := range files(v) {
		if !bytes.Equal(read(t, varDir, name), read(t, again, name)) {
			t.Errorf("%s differs between two runs with the same options", name)
		}
	}
	// Sites and shifts are the base's, byte for byte.
	for _, name := range []string{archive.ManifestName, archive.FileSites, archive.FileTeams} {
		if !bytes.Equal(read(t, baseDir, name), read(t, varDir, name)) {
			t.Errorf("%s differs from the base", name)
		}
	}

	key := func(i int) string { return fmt.Sprintf("U%07d", i+1) }
	basePeople := table(t, baseDir, archive.FileUsers)
	droppedID := map[string]bool{}
	var nDropped, nChanged int
	for i, p := range basePeople {
		if va.dropped(i) {
			droppedID[p["USER_ID"]] = true
			nDropped++
		}
		if va.changed(i) {
			nChanged++
		}
	}
	if nDropped != st.Dropped || nChanged != st.Changed || nDropped != 200 || nChanged != 200 || st.Added != 200 {
		t.Fatalf("%d dropped and %d changed by index, Stats say %d and %d (and %d added); want 200 each",
			nDropped, nChanged, st.Dropped, st.Changed, st.Added)
	}
	// without removes dropped people from a SUPERVISOR_LIST.
	without := func(list string) string {
		if list == "" {
			return ""
		}
		var keep []string
		for _, id := range strings.Split(list, ",") {
			if !droppedID[id] {
				keep = append(keep, id)
			}
		}
		return strings.Join(keep, ",")
	}

	// A dropped person's key appears in no file.
	var all [][]byte
	for _, name := range files(v) {
		all = append(all, read(t, varDir, name))
	}
	for i := range users {
		if !va.dropped(i) {
			continue
		}
		for k, b := range all {
			if bytes.Contains(b, []byte(key(i))) {
				t.Errorf("dropped person %s appears in %s", key(i), files(v)[k])
			}
		}
	}
	// ... nor their USER_ID in any list.
	for _, name := range []string{archive.FileUsers, archive.FileGroups} {
		for _, r := range table(t, varDir, name) {
			for _, id := range strings.Split(r["SUPERVISOR_LIST"], ",") {
				if droppedID[id] {
					t.Errorf("%s %s: supervisor %s was dropped", name, r["EXTERNAL_KEY"], id)
				}
			}
		}
	}

	// People: changed ones differ in LAST_NAME only, others only lose
	// dropped supervisors, appended ones come last with new keys.
	varPeople := table(t, varDir, archive.FileUsers)
	byKey := map[string]map[string]string{}
	for _, p := range varPeople {
		byKey[p["EXTERNAL_KEY"]] = p
	}
	if len(byKey) != len(varPeople) || len(varPeople) != users-200+200 {
		t.Fatalf("%d people (%d keys), want %d", len(varPeople), len(byKey), users)
	}
	for i, b := range basePeople {
		p := byKey[b["EXTERNAL_KEY"]]
		if va.dropped(i) {
			continue
		}
		if p == nil {
			t.Fatalf("person %s is missing", b["EXTERNAL_KEY"])
		}
		want := maps.Clone(b)
		want["SUPERVISOR_LIST"] = without(b["SUPERVISOR_LIST"])
		if va.changed(i) {
			if p["LAST_NAME"] == b["LAST_NAME"] || p["LAST_NAME"] == "" {
				t.Errorf("changed person %s kept LAST_NAME %q", b["EXTERNAL_KEY"], p["LAST_NAME"])
			}
			want["LAST_NAME"] = p["LAST_NAME"]
		}
		if !maps.Equal(p, want) {
			t.Errorf("person %s:\n got %v\nwant %v", b["EXTERNAL_KEY"], p, want)
		}
	}
	for i := users; i < users+200; i++ {
		if byKey[key(i)] == nil {
			t.Errorf("appended person %s is missing", key(i))
		}
	}

	// Devices: the first device of a changed person has another address,
	// number or PIN; all other rows of kept people are the base's.
	devices := func(dir string) map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, l := range archive.Layouts(v) {
			if l.DeviceType == "" {
				continue
			}
			for _, d := range table(t, dir, l.Name) {
				out[d["EXTERNAL_KEY"]] = d
			}
		}
		return out
	}
	baseDev, varDev := devices(baseDir), devices(varDir)
	changedFirst, newOwners := 0, map[string]bool{}
	for k, d := range varDev {
		if b := baseDev[k]; b == nil {
			newOwners[d["USER_KEY"]] = true
			continue
		}
		var i int
		fmt.Sscanf(d["USER_KEY"], "U%d", &i)
		i--
		if va.changed(i) && d["DEVICE_ORDER"] == "0" {
			changedFirst++
			if maps.Equal(d, baseDev[k]) {
				t.Errorf("first device %s of changed person did not change: %v", k, d)
			}
			for _, c := range []string{"EXTERNAL_KEY", "USER_KEY", "DEVICE_NAME", "STATUS", "DEVICE_ORDER"} {
				if d[c] != baseDev[k][c] {
					t.Errorf("first device %s of changed person: %s %q, was %q", k, c, d[c], baseDev[k][c])
				}
			}
			continue
		}
		if !maps.Equal(d, baseDev[k]) {
			t.Errorf("device %s:\n got %v\nwant %v", k, d, baseDev[k])
		}
	}
	if changedFirst != 200 {
		t.Errorf("%d changed first devices, want 200", changedFirst)
	}
	if len(newOwners) != 200 {
		t.Errorf("%d people own new devices, want the 200 appended", len(newOwners))
	}
	for owner := range newOwners {
		var i int
		fmt.Sscanf(owner, "U%d", &i)
		if i <= users {
			t.Errorf("new device of base person %s", owner)
		}
	}
	if n := len(baseDev) - len(varDev); n <= 0 {
		t.Errorf("the variant has %d more devices than the base; dropped people should take theirs away", -n)
	}

	// Custom values: base rows of kept people, and appended people's.
	baseCV := map[string]bool{}
	for _, r := range table(t, baseDir, archive.FileCustomValues) {
		baseCV[fmt.Sprint(r)] = true
	}
	for _, r := range table(t, varDir, archive.FileCustomValues) {
		var i int
		fmt.Sscanf(r["CUSTOM_USER_KEY"], "U%d", &i)
		if i <= users && !baseCV[fmt.Sprint(r)] {
			t.Errorf("custom value %v is not the base's", r)
		}
	}

	// Groups: the base's, less dropped supervisors.
	baseGroups, varGroups := table(t, baseDir, archive.FileGroups), table(t, varDir, archive.FileGroups)
	if len(baseGroups) != len(varGroups) {
		t.Fatalf("%d groups, the base has %d", len(varGroups), len(baseGroups))
	}
	for k, b := range baseGroups {
		want := maps.Clone(b)
		want["SUPERVISOR_LIST"] = without(b["SUPERVISOR_LIST"])
		if !maps.Equal(varGroups[k], want) {
			t.Errorf("group %s:\n got %v\nwant %v", b["EXTERNAL_KEY"], varGroups[k], want)
		}
	}

	// Memberships: the base's less those naming dropped people, in the
	// same order, numbered again from 1; no appended person is a member.
	type member struct{ team, key, typ string }
	var want []member
	for _, m := range table(t, baseDir, archive.FileMemberships) {
		var i int
		if m["MEMBER_TYPE"] != "GROUP" {
			fmt.Sscanf(m["MEMBER_KEY"], "U%d", &i)
			if va.dropped(i - 1) {
				continue
			}
		}
		want = append(want, member{m["TEAM_KEY"], m["MEMBER_KEY"], m["MEMBER_TYPE"]})
	}
	got := table(t, varDir, archive.FileMemberships)
	if len(got) != len(want) || len(got) != st.Rows[archive.FileMemberships] {
		t.Fatalf("%d memberships, want %d", len(got), len(want))
	}
	seq := map[string]int{}
	for k, m := range got {
		if g := (member{m["TEAM_KEY"], m["MEMBER_KEY"], m["MEMBER_TYPE"]}); g != want[k] {
			t.Fatalf("membership %d: %v, want %v", k+1, g, want[k])
		}
		seq[m["TEAM_KEY"]]++
		if m["MEMBER_SEQUENCE_NUMBER"] != strconv.Itoa(seq[m["TEAM_KEY"]]) {
			t.Errorf("%s: sequence %s, want %d", m["TEAM_KEY"], m["MEMBER_SEQUENCE_NUMBER"], seq[m["TEAM_KEY"]])
		}
	}
}

func TestVariantOrder(t *testing.T) {
	for _, users := range []int{1, 2, 3, 7, 50, 64, 997, 1000, 4096} {
		for _, seed := range []int64{1, 2, 99} {
			opt := Options{Users: users, Seed: seed, ChangePercent: 30, DropPercent: 20}
			va := newVariant(opt)
			seen := make([]bool, users)
			var drop, change int
			for i := range users {
				p := va.position(i)
				if p < 0 || p >= users || seen[p] {
					t.Fatalf("%d people, seed %d: position %d of %d is out of range or taken", users, seed, p, i)
				}
				seen[p] = true
				d, c := va.dropped(i), va.changed(i)
				if d && c {
					t.Fatalf("%d people: %d is both dropped and changed", users, i)
				}
				if d {
					drop++
				}
				if c {
					change++
				}
			}
			if drop != va.drop || change != va.change {
				t.Errorf("%d people: %d dropped, %d changed; want %d and %d", users, drop, change, va.drop, va.change)
			}
			// Spread: no two neighbours both dropped, drops at both ends.
			if users >= 50 {
				first, last := -1, -1
				for i := range users {
					if !va.dropped(i) {
						continue
					}
					if first < 0 {
						first = i
					}
					if last >= 0 && last == i-1 {
						t.Errorf("%d people, seed %d: %d and %d are both dropped", users, seed, i-1, i)
					}
					last = i
				}
				if first >= users/10 || last < users-users/10 {
					t.Errorf("%d people, seed %d: drops span only %d..%d", users, seed, first, last)
				}
			}
			if va.dropped(users) || va.changed(users) {
				t.Errorf("%d people: an appended person is dropped or changed", users)
			}
		}
	}
}

func TestVariantOptions(t *testing.T) {
	for _, opt := range []Options{
		{Users: 10, ChangePercent: -1},
		{Users: 10, DropPercent: 101},
		{Users: 10, ChangePercent: 60, DropPercent: 50},
		{Users: 10, AddPercent: math.NaN()},
		{Users: 10, AddPercent: math.Inf(1)},
		{Users: 10, AddPercent: 1001},
		{Users: -1},
	} {
		if err := opt.Check(); err == nil {
			t.Errorf("Check accepted %+v", opt)
		}
		w, err := archive.NewDirWriter(t.TempDir(), archive.Latest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(w, opt); err == nil {
			t.Errorf("Write accepted %+v", opt)
		}
	}
	for _, opt := range []Options{{}, {Users: 10, ChangePercent: 100}, {Users: 10, DropPercent: 100, AddPercent: 1000}, {Users: 5, ChangePercent: 40, DropPercent: 60}} {
		if err := opt.Check(); err != nil {
			t.Errorf("Check refused %+v: %v", opt, err)
		}
	}
}

// TestVariantZero checks that zero percents write the base archive.
func TestVariantZero(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeDir(t, a, archive.V1_3, 300, 5)
	st := writeOpt(t, b, archive.V1_3, Options{Users: 300, Seed: 5, ChangePercent: 0.1, AddPercent: 0.1, DropPercent: 0.1})
	if st.Changed+st.Added+st.Dropped != 0 {
		t.Errorf("0.1 %% of 300 rounds to 0 people, Stats say %+v", st)
	}
	for _, name := range files(archive.V1_3) {
		if !bytes.Equal(read(t, a, name), read(t, b, name)) {
			t.Errorf("%s differs from the base", name)
		}
	}
}
