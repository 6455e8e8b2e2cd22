package engine_test

// Property test: random sequences of small archives, applied by the engine
// to a fresh company and by the reference model of model_test.go; after
// every archive the directory in the store, the row outcomes, the
// REMOVED_BY_MIRROR counts and the cascade events of the two must agree.
//
//	go test ./internal/engine -run TestProperty                      # 100 sequences
//	go test ./internal/engine -run TestProperty -rapid.checks=1000   # a longer run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/sqlite"
)

func TestPropertySQLite(t *testing.T) {
	runProperty(t, func(t *testing.T) directory.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "epicd.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// TestPropertyPostgres runs on the server of EPIC_TEST_PG_DSN (skipped
// without it, see pgtest).
func TestPropertyPostgres(t *testing.T) {
	for _, s := range stores {
		if s.name == "postgres" {
			runProperty(t, func(t *testing.T) directory.Store {
				st := s.open(t)
				t.Cleanup(func() { st.Close() })
				return st
			})
		}
	}
}

// TestPropertyExamples replays, on every store, sequences that the
// property test found: the model's expectations are checked as in the
// random sequences.
func TestPropertyExamples(t *testing.T) {
	base := func(extra map[string][]string) map[string][]string {
		rows := map[string][]string{
			archive.FileSites:  {"EXTERNAL_KEY=S1;SITENAME=Berlin"},
			archive.FileUsers:  {"EXTERNAL_KEY=U1;USER_ID=ada;SITE_NAME=Berlin"},
			archive.FileGroups: {"EXTERNAL_KEY=G1;GROUP_NAME=Ops"},
			archive.FileTeams:  {"EXTERNAL_KEY=T1;GROUP_KEY=G1"},
		}
		for f, r := range extra {
			rows[f] = r
		}
		return rows
	}
	examples := []struct {
		name  string
		steps []pstep
	}{
		{"a row renaming a device with an ignored name is IGNORED", []pstep{
			example(false, "", base(map[string][]string{archive.FileVoice: {"EXTERNAL_KEY=V1;USER_KEY=U1;DEVICE_NAME=Home Phone"}})),
			example(false, "Home Phone", base(map[string][]string{archive.FileVoice: {"EXTERNAL_KEY=V1;USER_KEY=U1;DEVICE_NAME=Work Phone"}})),
		}},
		{"a name freed and taken in one archive (knownIssueInsertBeforeUpdate)", []pstep{
			example(false, "", map[string][]string{archive.FileSites: {"EXTERNAL_KEY=S2;SITENAME=Berlin"}}),
			example(false, "", map[string][]string{archive.FileSites: {"EXTERNAL_KEY=S2;SITENAME=Tokyo", "EXTERNAL_KEY=S1;SITENAME=Berlin"}}),
		}},
		{"mirror and a shift that DS_TEAMS names but does not upsert (mirrorSweepsUnnamedMembers)", []pstep{
			example(false, "", base(map[string][]string{archive.FileMemberships: {"TEAM_KEY=T1;MEMBER_KEY=U1"}})),
			example(true, "", base(map[string][]string{archive.FileTeams: {"EXTERNAL_KEY=T1;GROUP_KEY=G1;ACTION=X"}})),
		}},
		{"a device of a person whose row failed, the person being in the company (cascadeFailedRows)", []pstep{
			example(false, "", base(map[string][]string{archive.FileEmail: {"EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=a@example.com"}})),
			example(false, "", base(map[string][]string{archive.FileUsers: {"EXTERNAL_KEY=U1;USER_ID=ada;SITE_NAME=Berlin;STATUS=active"},
				archive.FileEmail: {"EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=b@example.com"}})),
		}},
		{"a person whose site row failed (expectSiteCascadeEvent)", []pstep{
			example(false, "", map[string][]string{archive.FileSites: {"EXTERNAL_KEY=S1;SITENAME=Berlin;STATUS=active"},
				archive.FileUsers: {"EXTERNAL_KEY=U1;USER_ID=ada;SITE_NAME=Berlin"}}),
		}},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st := s.open(t)
			t.Cleanup(func() { st.Close() })
			pr := newPropertyRun(t, st)
			for _, ex := range examples {
				t.Run(ex.name, func(t *testing.T) { pr.check(t, ex.steps) })
			}
		})
	}
}

// example makes an archive from rows in the notation of helpers_test.go
// (defaults from rowDefaults and commonDefaults).
func example(mirror bool, ignore string, rows map[string][]string) pstep {
	s := pstep{mirror: mirror, files: map[string][]prow{}}
	if ignore != "" {
		s.ignore = strings.Split(ignore, "|")
	}
	for f, specs := range rows {
		for _, spec := range specs {
			row := prow{}
			for k, v := range commonDefaults {
				row[k] = v
			}
			for k, v := range rowDefaults[f] {
				row[k] = v
			}
			for _, kv := range strings.Split(spec, ";") {
				k, v, _ := strings.Cut(kv, "=")
				row[k] = v
			}
			s.files[f] = append(s.files[f], row)
		}
	}
	return s
}

// runProperty checks the engine against the model on the store that open
// returns; every sequence gets a company of its own.
func runProperty(t *testing.T, open func(t *testing.T) directory.Store) {
	pr := newPropertyRun(t, open(t))
	rapid.Check(t, func(rt *rapid.T) {
		// Writes in chunks of a few objects (people, devices, custom
		// values) must give what one batch gives.
		defer engine.SetFlushEvery(rapid.SampledFrom([]int{1, 2, 3, 1 << 30}).Draw(rt, "chunk"))()
		steps := make([]pstep, rapid.IntRange(1, 6).Draw(rt, "steps"))
		for i := range steps {
			steps[i] = genStep(rt, i)
		}
		pr.check(rt, steps)
	})
	pr.logStats(t)
}

// propertyRun applies sequences of archives to fresh companies of a store.
type propertyRun struct {
	ctx   context.Context
	st    directory.Store
	eng   *engine.Engine
	path  string // of the archive being applied
	n     int    // companies made
	stats map[string]int
}

func newPropertyRun(t *testing.T, st directory.Store) *propertyRun {
	pr := &propertyRun{ctx: context.Background(), st: st, eng: &engine.Engine{Store: st, Limits: archive.DefaultLimits()},
		path: filepath.Join(t.TempDir(), "archive.zip")}
	if os.Getenv("EPIC_PROPERTY_STATS") != "" {
		pr.stats = map[string]int{}
	}
	return pr
}

// logStats logs how often the model saw each outcome, with
// EPIC_PROPERTY_STATS set: a check that the generator reaches what it
// should.
func (pr *propertyRun) logStats(t *testing.T) {
	var keys []string
	for k := range pr.stats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%-36s %6d", k, pr.stats[k])
	}
}

// fataler is what check needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// check applies steps in turn to a new company, with the engine and with
// the model, and compares after every step.
func (pr *propertyRun) check(t fataler, steps []pstep) {
	t.Helper()
	ctx := pr.ctx
	pr.n++
	co := &directory.Company{Name: fmt.Sprintf("property-%d", pr.n), EpicEnabled: true, Config: directory.DefaultConfig()}
	co.Config.Limits.Enabled = false // the safety gate is not part of the model
	if err := pr.st.CreateCompany(ctx, co); err != nil {
		t.Fatalf("create company: %v", err)
	}
	m := newModel()
	var history strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&history, "archive %d: %s", i+1, describeStep(s))
		if err := writeStep(pr.path, s); err != nil {
			t.Fatalf("write archive: %v", err)
		}
		job, err := pr.eng.Apply(ctx, co, pr.path, engine.Job{By: "property"})
		want := m.apply(s)
		pr.count(want, m)
		var problems []string
		switch {
		case want.abort != "" && err == nil:
			problems = append(problems, "Apply succeeded; the model expects it to fail and change nothing: "+want.abort)
		case want.abort == "" && err != nil:
			t.Fatalf("%s\nApply: %v", &history, err)
		}
		// The directory.
		var got *model
		err = pr.st.View(ctx, co.ID, func(v directory.View) error {
			var err error
			got, err = modelOf(v)
			return err
		})
		if err != nil {
			problems = append(problems, fmt.Sprintf("read the directory: %v", err))
		} else if diff := cmp.Diff(m, got, cmpopts.EquateEmpty()); diff != "" {
			problems = append(problems, "directory (-model +store):\n"+diff)
		}
		if want.abort == "" {
			problems = append(problems, checkJob(job, want)...)
		}
		if len(problems) > 0 {
			t.Fatalf("%safter archive %d:\n%s", &history, i+1, strings.Join(problems, "\n"))
		}
	}
}

func (pr *propertyRun) count(want modelResult, m *model) {
	if pr.stats == nil {
		return
	}
	pr.stats["archives"]++
	if want.abort != "" {
		pr.stats["archives failing (known issue)"]++
	}
	for id, o := range want.outcomes {
		f, _, _ := strings.Cut(id, ":")
		pr.stats[strings.TrimSuffix(f, ".csv")+" "+o]++
	}
	for f, n := range want.removedByMirror {
		pr.stats[f+" REMOVED_BY_MIRROR"] += n
	}
	pr.stats["objects after archives"] += len(m.Sites) + len(m.People) + len(m.Devices) + len(m.Customs) + len(m.Groups) + len(m.Shifts)
	for _, ms := range m.Members {
		pr.stats["shift members after archives"] += len(ms)
	}
}

// checkJob compares a job's report with the model's expectations.
func checkJob(job *directory.Job, want modelResult) []string {
	var problems []string
	// Row outcomes.
	rows, err := engine.RowResults(job)
	if err != nil {
		return []string{fmt.Sprintf("row results: %v", err)}
	}
	gotOutcomes := map[string]string{}
	for _, r := range rows {
		id := r.File + ":" + r.Line
		if prev, dup := gotOutcomes[id]; dup {
			problems = append(problems, fmt.Sprintf("%s has two outcomes, %s and %s", id, prev, r.Outcome))
		}
		gotOutcomes[id] = r.Outcome
	}
	if diff := cmp.Diff(want.outcomes, gotOutcomes, cmpopts.EquateEmpty()); diff != "" {
		problems = append(problems, "row outcomes (-model +engine):\n"+diff)
	}
	// REMOVED_BY_MIRROR.
	gotMirror := map[string]int{}
	for _, s := range job.Summary {
		if s.RemovedByMirror != 0 {
			gotMirror[s.Synchronizer] = s.RemovedByMirror
		}
	}
	if diff := cmp.Diff(want.removedByMirror, gotMirror, cmpopts.EquateEmpty()); diff != "" {
		problems = append(problems, "REMOVED_BY_MIRROR (-model +engine):\n"+diff)
	}
	problems = append(problems, checkReport(job, want)...)
	// Rows that failed for a missing reference: a cascade names the
	// failed row it depended on.
	for id, ev := range want.events {
		file, line, _ := strings.Cut(id, ":")
		var events []string
		for _, d := range job.Details {
			if d.File == file && strconv.Itoa(d.Line) == line && d.Status == "FAILURE" {
				events = append(events, d.Event)
			}
		}
		if !slices.Contains(events, ev) {
			problems = append(problems, fmt.Sprintf("%s: failure events %v, want %s", id, events, ev))
		}
	}
	return problems
}

// checkReport checks the summary, status and details of a job against
// its row outcomes (processing.md §5).
func checkReport(job *directory.Job, want modelResult) []string {
	var problems []string
	count := map[string]*directory.SummaryLine{}
	failed := 0
	for id, o := range want.outcomes {
		file, _, _ := strings.Cut(id, ":")
		sync := strings.TrimSuffix(file, ".csv")
		l := count[sync]
		if l == nil {
			l = &directory.SummaryLine{Synchronizer: sync}
			count[sync] = l
		}
		l.Read++
		switch o {
		case engineInserted:
			l.Inserted++
		case engineUpdated:
			l.Updated++
		case engineUnchanged:
			l.Unchanged++
		case engineRemoved:
			l.Removed++
		case engineIgnored:
			l.Ignored++
		case engineFailed:
			l.Failed++
			failed++
			var found bool
			for _, d := range job.Details {
				found = found || d.File == file && file+":"+strconv.Itoa(d.Line) == id && d.Status == "FAILURE"
			}
			if !found {
				problems = append(problems, id+" FAILED without a FAILURE detail")
			}
		}
	}
	for _, s := range job.Summary {
		w := count[s.Synchronizer]
		if w == nil {
			w = &directory.SummaryLine{Synchronizer: s.Synchronizer}
		}
		w.RemovedByMirror = s.RemovedByMirror // compared on its own
		if *w != s {
			problems = append(problems, fmt.Sprintf("summary of %s: %+v, the rows say %+v", s.Synchronizer, s, *w))
		}
		delete(count, s.Synchronizer)
	}
	for sync := range count {
		problems = append(problems, "no summary line for "+sync)
	}
	status := directory.JobCompleted
	if failed > 0 {
		status = directory.JobCompletedWithErrors
	}
	if job.Status != status {
		problems = append(problems, fmt.Sprintf("job status %s, want %s", job.Status, status))
	}
	return problems
}

// pick draws one of opts; the first is what shrinking goes for.
func pick(t *rapid.T, label string, opts ...string) string {
	return opts[rapid.IntRange(0, len(opts)-1).Draw(t, label)]
}

// rarely is true for about one draw in eight: the fault or oddity that
// a row has now and then. Shrinking goes for false.
func rarely(t *rapid.T, label string) bool { return rapid.IntRange(0, 99).Draw(t, label) >= 88 }

// choose draws plain most of the time and one of others rarely.
func choose(t *rapid.T, label, plain string, others ...string) string {
	if len(others) == 0 || !rarely(t, label) {
		return plain
	}
	return pick(t, label+"'", others...)
}

// Key pools: small, so that updates, re-inserts and collisions happen.
// Each key has a natural name and owner, which most rows keep, so that a
// directory builds up over a sequence; now and then a row renames, moves
// or breaks something.
var (
	poolSites   = []string{"S1", "S2", "S3"}
	poolPeople  = []string{"U1", "U2", "U3", "U4"}
	poolEmails  = []string{"E1", "E2", "E3"}
	poolVoices  = []string{"V1", "V2", "E1"} // E1: device keys are per device type
	poolCustoms = []string{"C1", "C2", "C3"}
	poolGroups  = []string{"G1", "G2", "G3"}
	poolShifts  = []string{"T1", "T2", "T3"}

	siteName   = map[string]string{"S1": "Berlin", "S2": "Paris", "S3": "Tokyo"}
	userID     = map[string]string{"U1": "ada", "U2": "bob", "U3": "cy", "U4": "dee"}
	userSite   = map[string]string{"U1": "Berlin", "U2": "Berlin", "U3": "Paris", "U4": "Tokyo"}
	emailOwner = map[string]string{"E1": "U1", "E2": "U2", "E3": "U3"}
	voiceOwner = map[string]string{"V1": "U1", "V2": "U2", "E1": "U3"}
	voiceName  = map[string]string{"V1": "Work Phone", "V2": "Home Phone", "E1": "Mobile Phone"}
	customOf   = map[string][2]string{"C1": {"U1", "DEPARTMENT"}, "C2": {"U2", "DEPARTMENT"}, "C3": {"U1", "COST_CENTER"}}
	groupName  = map[string]string{"G1": "Ops", "G2": "Dev", "G3": "Sre"}
	shiftOf    = map[string][2]string{"T1": {"G1", "Day"}, "T2": {"G1", "Night"}, "T3": {"G2", "Day"}}
)

var pools = map[string][]string{archive.FileSites: poolSites, archive.FileUsers: poolPeople, archive.FileEmail: poolEmails,
	archive.FileVoice: poolVoices, archive.FileCustomValues: poolCustoms, archive.FileGroups: poolGroups, archive.FileTeams: poolShifts}

// memberCandidates are the members membership rows name (type, sub, key).
var memberCandidates = [][3]string{{"PERSON", "", "U1"}, {"PERSON", "", "U2"}, {"PERSON", "", "U3"}, {"DEVICE", "EMAIL", "E1"},
	{"DEVICE", "VOICE", "V1"}, {"DEVICE", "VOICE", "E1"}, {"GROUP", "", "G2"}, {"TEAM", "", "T1"}, {"PERSON", "", "U9"}}

// genStep draws an archive: each file has rows for some keys of its pool,
// in some order, and now and then a second row for a key (which the
// validator rejects as a duplicate).
func genStep(t *rapid.T, n int) pstep {
	p := fmt.Sprintf("a%d.", n+1)
	s := pstep{files: map[string][]prow{}}
	s.mirror = rapid.IntRange(0, 4).Draw(t, p+"mirror") == 4
	if ig := pick(t, p+"ignore", "", "Home Phone", "Home Phone|Home Email"); ig != "" {
		s.ignore = strings.Split(ig, "|")
	}
	s.orderDelay = rarely(t, p+"orderDelay")
	for _, f := range modelFiles {
		short := strings.TrimSuffix(strings.TrimPrefix(f, "DS_"), ".csv")
		if f == archive.FileMemberships {
			for _, shift := range append(poolShifts, "T9") {
				if shift == "T9" && !rarely(t, p+short+".T9") {
					continue
				}
				for range rapid.IntRange(0, 3).Draw(t, p+short+"."+shift) {
					m := memberCandidates[rapid.IntRange(0, len(memberCandidates)-1).Draw(t, p+short+"."+shift+".member")]
					label := fmt.Sprintf("%s%s%d.", p, short, len(s.files[f])+2)
					s.files[f] = append(s.files[f], genMembership(t, label, shift, m))
				}
			}
			continue
		}
		var keys []string
		for _, k := range pools[f] {
			if rapid.IntRange(0, 9).Draw(t, p+short+"."+k) >= 3 {
				keys = append(keys, k)
			}
		}
		keys = rapid.Permutation(keys).Draw(t, p+short+".order")
		if len(keys) > 0 && rarely(t, p+short+".duplicate") {
			keys = append(keys, pick(t, p+short+".duplicateKey", keys...))
		}
		for i, k := range keys {
			s.files[f] = append(s.files[f], genRow(t, f, k, fmt.Sprintf("%s%s%d.", p, short, i+2)))
		}
	}
	return s
}

func genMembership(t *rapid.T, p, shift string, m [3]string) prow {
	row := prow{"ACTION": "Y", "TEAM_KEY": shift, "MEMBER_TYPE": m[0], "MEMBER_SUB_TYPE": m[1], "MEMBER_KEY": m[2]}
	if rarely(t, p+"action") {
		row["ACTION"] = pick(t, p+"otherAction", "R", "R", "", "X")
	}
	row["IS_EXTERNALLY_OWNED"] = pick(t, p+"owned", "Y", "N")
	row["MEMBER_SEQUENCE_NUMBER"] = pick(t, p+"sequence", "1", "2", "3")
	return row
}

func genRow(t *rapid.T, file, key, p string) prow {
	row := prow{}
	for k, v := range commonDefaults {
		row[k] = v
	}
	for k, v := range rowDefaults[file] {
		row[k] = v
	}
	row["ACTION"] = "Y"
	if rarely(t, p+"action") {
		row["ACTION"] = pick(t, p+"otherAction", "R", "R", "", "X", "y")
	}
	row["IS_EXTERNALLY_OWNED"] = pick(t, p+"owned", "Y", "N")
	status := func() string {
		return choose(t, p+"status", pick(t, p+"status.plain", "ACTIVE", "INACTIVE"), "active") // active: the validator rejects it
	}
	switch file {
	case archive.FileSites:
		row["EXTERNAL_KEY"] = key
		row["SITENAME"] = choose(t, p+"name", siteName[key], "Berlin", "Paris", "BERLIN", "Rome")
		row["STATUS"] = status()
		row["CITY"] = pick(t, p+"city", "", "Mitte")
	case archive.FileUsers:
		row["EXTERNAL_KEY"] = key
		row["USER_ID"] = choose(t, p+"userID", userID[key], "ada", "bob", "ADA", "eve", "Ops")
		row["FIRST_NAME"] = pick(t, p+"first", "Ada", "Bea")
		row["STATUS"] = status()
		row["ROLE_LIST"] = choose(t, p+"roles", pick(t, p+"roles.plain", "Standard User", "Standard User,Group Supervisor"),
			"Bogus", "Bogus,Group Supervisor")
		row["SITE_NAME"] = choose(t, p+"site", userSite[key], "Berlin", "paris", "Tokyo", "Atlantis")
		row["SUPERVISOR_LIST"] = pick(t, p+"supervisors", "", "", "ada", "bob,ada", "<<<NONE>>>", "zed")
		row["WEB_LOGIN"] = pick(t, p+"webLogin", "", "login")
	case archive.FileEmail:
		row["EXTERNAL_KEY"] = key
		row["USER_KEY"] = choose(t, p+"owner", emailOwner[key], "U1", "U4", "U9")
		row["DEVICE_NAME"] = choose(t, p+"name", "Work Email", "Home Email", "work email", "Work Phone")
		row["ADDRESS"] = choose(t, p+"address", pick(t, p+"address.plain", "a@example.com", "b@example.com"), "not-an-email")
	case archive.FileVoice:
		row["EXTERNAL_KEY"] = key
		row["USER_KEY"] = choose(t, p+"owner", voiceOwner[key], "U1", "U4", "U9")
		row["DEVICE_NAME"] = choose(t, p+"name", voiceName[key], "Work Phone", "Home Phone", "Mobile Phone", "Work Email")
		row["PHONE_NUMBER"] = pick(t, p+"phone", "+49 30 1234567", "555 0100")
	case archive.FileCustomValues:
		row["EXTERNAL_KEY"] = key
		row["CUSTOM_USER_KEY"] = choose(t, p+"person", customOf[key][0], "U1", "U2", "U9")
		row["FIELD_KEY"] = choose(t, p+"field", customOf[key][1], "DEPARTMENT", "EMPLOYEE_TYPE", "BOGUS")
		row["CUSTOM_VALUE"] = pick(t, p+"value", "Ops", "Dev", "")
	case archive.FileGroups:
		row["EXTERNAL_KEY"] = key
		row["GROUP_NAME"] = choose(t, p+"name", groupName[key], "Ops", "ops", "Dev", "ada")
		row["DESCRIPTION"] = pick(t, p+"description", "", "on call")
		row["STATUS"] = status()
		row["GROUP_SITE_NAME"] = choose(t, p+"site", pick(t, p+"site.plain", "", "Berlin"), "Paris", "Atlantis")
		row["OBSERVED_BY_ALL"] = pick(t, p+"observedByAll", "", "Y", "N")
		row["OBSERVER_LIST"] = pick(t, p+"observers", "", "Standard User", "Bogus", "<<<NONE>>>")
		row["SUPERVISOR_LIST"] = pick(t, p+"supervisors", "", "ada", "bob,cy", "<<<NONE>>>", "zed")
		row["ALLOW_DUPLICATES"] = pick(t, p+"allowDuplicates", "", "Y", "N")
	case archive.FileTeams:
		row["EXTERNAL_KEY"] = key
		row["GROUP_KEY"] = choose(t, p+"group", shiftOf[key][0], "G1", "G2", "G3", "G9")
		row["SUB_TARGET_NAME"] = choose(t, p+"name", shiftOf[key][1], "Day", "Night", "day")
		row["DESCRIPTION"] = pick(t, p+"description", "", "rotation")
		row["ESCALATION_SCHEDULE"] = pick(t, p+"escalation", "0", "0,5")
		row["IS_ROUND_ROBIN"] = pick(t, p+"roundRobin", "N", "Y")
	}
	if rarely(t, p+"pad") {
		// Values are trimmed of surrounding spaces (format.md §2).
		var cols []string
		for _, c := range []string{"ACTION", "EXTERNAL_KEY", "SITENAME", "USER_ID", "SITE_NAME", "USER_KEY", "DEVICE_NAME",
			"CUSTOM_USER_KEY", "FIELD_KEY", "GROUP_NAME", "GROUP_KEY", "SUB_TARGET_NAME", "SUPERVISOR_LIST"} {
			if row[c] != "" {
				cols = append(cols, c)
			}
		}
		c := pick(t, p+"padColumn", cols...)
		row[c] = pick(t, p+"pad'", " ", "\t") + row[c] + " "
	}
	if file == archive.FileEmail || file == archive.FileVoice {
		row["STATUS"] = status()
		row["DEFAULT_DEVICE"] = pick(t, p+"default", "N", "Y")
		row["DEVICE_ORDER"] = pick(t, p+"order", "0", "1", "2")
		row["DELAY"] = pick(t, p+"delay", "0", "5")
	}
	return row
}

// shown are the columns describeStep prints, by file (besides ACTION).
var shown = map[string][]string{
	archive.FileSites:        {"EXTERNAL_KEY", "SITENAME", "STATUS", "CITY", "IS_EXTERNALLY_OWNED"},
	archive.FileUsers:        {"EXTERNAL_KEY", "USER_ID", "FIRST_NAME", "STATUS", "ROLE_LIST", "SITE_NAME", "SUPERVISOR_LIST", "WEB_LOGIN", "IS_EXTERNALLY_OWNED"},
	archive.FileEmail:        {"EXTERNAL_KEY", "USER_KEY", "DEVICE_NAME", "ADDRESS", "STATUS", "DEFAULT_DEVICE", "DEVICE_ORDER", "DELAY", "IS_EXTERNALLY_OWNED"},
	archive.FileVoice:        {"EXTERNAL_KEY", "USER_KEY", "DEVICE_NAME", "PHONE_NUMBER", "STATUS", "DEFAULT_DEVICE", "DEVICE_ORDER", "DELAY", "IS_EXTERNALLY_OWNED"},
	archive.FileCustomValues: {"EXTERNAL_KEY", "CUSTOM_USER_KEY", "FIELD_KEY", "CUSTOM_VALUE", "IS_EXTERNALLY_OWNED"},
	archive.FileGroups:       {"EXTERNAL_KEY", "GROUP_NAME", "DESCRIPTION", "STATUS", "GROUP_SITE_NAME", "OBSERVED_BY_ALL", "OBSERVER_LIST", "SUPERVISOR_LIST", "ALLOW_DUPLICATES", "IS_EXTERNALLY_OWNED"},
	archive.FileTeams:        {"EXTERNAL_KEY", "GROUP_KEY", "SUB_TARGET_NAME", "DESCRIPTION", "ESCALATION_SCHEDULE", "IS_ROUND_ROBIN", "IS_EXTERNALLY_OWNED"},
	archive.FileMemberships:  {"TEAM_KEY", "MEMBER_TYPE", "MEMBER_SUB_TYPE", "MEMBER_KEY", "MEMBER_SEQUENCE_NUMBER", "IS_EXTERNALLY_OWNED"},
}

// describeStep prints an archive in the row notation of helpers_test.go.
func describeStep(s pstep) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mirror=%v deviceNamesToIgnore=%q ignoreDeviceOrderAndDelay=%v\n", s.mirror, strings.Join(s.ignore, "|"), s.orderDelay)
	for _, f := range modelFiles {
		for i, row := range s.files[f] {
			parts := []string{"ACTION=" + row["ACTION"]}
			for _, c := range shown[f] {
				if v := row[c]; v != "" {
					parts = append(parts, c+"="+v)
				}
			}
			fmt.Fprintf(&b, "  %s:%d %s\n", strings.TrimSuffix(f, ".csv"), i+2, strings.Join(parts, ";"))
		}
	}
	return b.String()
}

// writeStep writes the archive as a zip at path; files the step has no
// rows for are blank.
func writeStep(path string, s pstep) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	m := archive.DefaultManifest()
	m.Mirror, m.DeviceNamesToIgnore, m.IgnoreDeviceOrderAndDelay = s.mirror, s.ignore, s.orderDelay
	if err := w.WriteManifest(m); err != nil {
		return err
	}
	for _, l := range archive.Layouts(archive.Latest) {
		fw, err := w.Create(l)
		if err != nil {
			return err
		}
		for _, row := range s.files[l.Name] {
			rec := fw.Row()
			for i, c := range l.Columns {
				rec[i] = row[c.Name]
			}
			if err := fw.Write(rec); err != nil {
				return err
			}
		}
		if err := fw.Close(); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}
