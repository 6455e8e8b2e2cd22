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

// runProperty checks the engine against the model on the store that open
// returns; every sequence gets a company of its own.
func runProperty(t *testing.T, open func(t *testing.T) directory.Store) {
	ctx := context.Background()
	st := open(t)
	eng := &engine.Engine{Store: st, Limits: archive.DefaultLimits()}
	dir := t.TempDir()
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		co := &directory.Company{Name: fmt.Sprintf("property-%d", n), EpicEnabled: true, Config: directory.DefaultConfig()}
		co.Config.Limits.Enabled = false // the safety gate is not part of the model
		if err := st.CreateCompany(ctx, co); err != nil {
			rt.Fatalf("create company: %v", err)
		}
		m := newModel()
		steps := rapid.IntRange(1, 6).Draw(rt, "steps")
		var history strings.Builder
		for i := range steps {
			s := genStep(rt, i)
			fmt.Fprintf(&history, "archive %d: %s", i+1, describeStep(s))
			path := filepath.Join(dir, "archive.zip")
			if err := writeStep(path, s); err != nil {
				rt.Fatalf("write archive: %v", err)
			}
			job, err := eng.Apply(ctx, co, path, engine.Job{By: "property"})
			if err != nil {
				rt.Fatalf("%s\nApply: %v", &history, err)
			}
			want := m.apply(s)
			var problems []string
			// The directory.
			var got *model
			err = st.View(ctx, co.ID, func(v directory.View) error {
				var err error
				got, err = modelOf(v)
				return err
			})
			if err != nil {
				problems = append(problems, fmt.Sprintf("read the directory: %v", err))
			} else if diff := cmp.Diff(m, got, cmpopts.EquateEmpty()); diff != "" {
				problems = append(problems, "directory (-model +store):\n"+diff)
			}
			// Row outcomes.
			rows, err := engine.RowResults(job)
			if err != nil {
				rt.Fatalf("row results: %v", err)
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
			if len(problems) > 0 {
				rt.Fatalf("%safter archive %d:\n%s", &history, i+1, strings.Join(problems, "\n"))
			}
		}
	})
}

// pick draws one of opts; the first is what shrinking goes for.
func pick(t *rapid.T, label string, opts ...string) string {
	return opts[rapid.IntRange(0, len(opts)-1).Draw(t, label)]
}

// Key and name pools: small, so that updates, re-inserts and collisions
// happen. The first of each is the plain choice.
var (
	poolSites   = []string{"S1", "S2", "S3"}
	poolPeople  = []string{"U1", "U2", "U3", "U4", "U9"}
	poolEmails  = []string{"E1", "E2", "E3"}
	poolVoices  = []string{"V1", "V2", "E1"} // E1: device keys are per device type
	poolCustoms = []string{"C1", "C2", "C3"}
	poolGroups  = []string{"G1", "G2", "G3"}
	poolShifts  = []string{"T1", "T2", "T3"}
)

func genStep(t *rapid.T, n int) pstep {
	p := fmt.Sprintf("a%d.", n+1)
	s := pstep{files: map[string][]prow{}}
	s.mirror = rapid.IntRange(0, 3).Draw(t, p+"mirror") == 3
	if ig := pick(t, p+"ignore", "", "Home Phone", "Home Phone|Home Email"); ig != "" {
		s.ignore = strings.Split(ig, "|")
	}
	s.orderDelay = rapid.IntRange(0, 5).Draw(t, p+"orderDelay") == 5
	max := map[string]int{archive.FileSites: 2, archive.FileUsers: 4, archive.FileEmail: 3, archive.FileVoice: 2,
		archive.FileCustomValues: 2, archive.FileGroups: 2, archive.FileTeams: 2, archive.FileMemberships: 4}
	for _, f := range modelFiles {
		short := strings.TrimSuffix(strings.TrimPrefix(f, "DS_"), ".csv")
		rows := rapid.IntRange(0, max[f]).Draw(t, p+short)
		for i := range rows {
			s.files[f] = append(s.files[f], genRow(t, f, fmt.Sprintf("%s%s%d.", p, short, i+2)))
		}
	}
	return s
}

func genRow(t *rapid.T, file, p string) prow {
	row := prow{}
	for k, v := range commonDefaults {
		row[k] = v
	}
	for k, v := range rowDefaults[file] {
		row[k] = v
	}
	switch a := rapid.IntRange(0, 9).Draw(t, p+"action"); {
	case a == 9:
		row["ACTION"] = pick(t, p+"otherAction", "", "X", "y")
	case a >= 7:
		row["ACTION"] = "R"
	default:
		row["ACTION"] = "Y"
	}
	row["IS_EXTERNALLY_OWNED"] = pick(t, p+"owned", "Y", "N")
	status := func() string {
		switch s := rapid.IntRange(0, 9).Draw(t, p+"status"); {
		case s == 9:
			return "active" // the validator rejects it
		case s >= 6:
			return "INACTIVE"
		}
		return "ACTIVE"
	}
	switch file {
	case archive.FileSites:
		row["EXTERNAL_KEY"] = pick(t, p+"key", poolSites...)
		row["SITENAME"] = pick(t, p+"name", "Berlin", "Paris", "Tokyo", "BERLIN")
		row["STATUS"] = status()
		row["CITY"] = pick(t, p+"city", "", "Mitte")
	case archive.FileUsers:
		row["EXTERNAL_KEY"] = pick(t, p+"key", poolPeople[:4]...)
		row["USER_ID"] = pick(t, p+"userID", "ada", "bob", "cy", "dee", "ADA", "Ops")
		row["FIRST_NAME"] = pick(t, p+"first", "Ada", "Bea")
		row["STATUS"] = status()
		row["ROLE_LIST"] = pick(t, p+"roles", "Standard User", "Standard User,Group Supervisor", "Bogus", "Bogus,Group Supervisor")
		row["SITE_NAME"] = pick(t, p+"site", "Berlin", "Paris", "paris", "Atlantis")
		row["SUPERVISOR_LIST"] = pick(t, p+"supervisors", "", "ada", "bob,ada", "<<<NONE>>>", "zed")
		row["WEB_LOGIN"] = pick(t, p+"webLogin", "", "login")
	case archive.FileEmail, archive.FileVoice:
		if file == archive.FileEmail {
			row["EXTERNAL_KEY"] = pick(t, p+"key", poolEmails...)
			row["DEVICE_NAME"] = pick(t, p+"name", "Work Email", "Home Email", "work email", "Work Phone")
			row["ADDRESS"] = pick(t, p+"address", "a@example.com", "b@example.com", "not-an-email")
		} else {
			row["EXTERNAL_KEY"] = pick(t, p+"key", poolVoices...)
			row["DEVICE_NAME"] = pick(t, p+"name", "Work Phone", "Home Phone", "Mobile Phone")
			row["PHONE_NUMBER"] = pick(t, p+"phone", "+49 30 1234567", "555 0100")
		}
		row["USER_KEY"] = pick(t, p+"owner", poolPeople...)
		row["STATUS"] = status()
		row["DEFAULT_DEVICE"] = pick(t, p+"default", "N", "Y")
		row["DEVICE_ORDER"] = pick(t, p+"order", "0", "1", "2")
		row["DELAY"] = pick(t, p+"delay", "0", "5")
	case archive.FileCustomValues:
		row["EXTERNAL_KEY"] = pick(t, p+"key", poolCustoms...)
		row["CUSTOM_USER_KEY"] = pick(t, p+"person", poolPeople...)
		row["FIELD_KEY"] = pick(t, p+"field", "DEPARTMENT", "COST_CENTER", "BOGUS")
		row["CUSTOM_VALUE"] = pick(t, p+"value", "Ops", "Dev", "")
	case archive.FileGroups:
		row["EXTERNAL_KEY"] = pick(t, p+"key", poolGroups...)
		row["GROUP_NAME"] = pick(t, p+"name", "Ops", "Dev", "ops", "ada")
		row["DESCRIPTION"] = pick(t, p+"description", "", "on call")
		row["STATUS"] = status()
		row["GROUP_SITE_NAME"] = pick(t, p+"site", "", "Berlin", "Paris", "Atlantis")
		row["OBSERVED_BY_ALL"] = pick(t, p+"observedByAll", "", "Y", "N")
		row["OBSERVER_LIST"] = pick(t, p+"observers", "", "Standard User", "Bogus", "<<<NONE>>>")
		row["SUPERVISOR_LIST"] = pick(t, p+"supervisors", "", "ada", "bob,cy", "<<<NONE>>>", "zed")
		row["ALLOW_DUPLICATES"] = pick(t, p+"allowDuplicates", "", "Y", "N")
	case archive.FileTeams:
		row["EXTERNAL_KEY"] = pick(t, p+"key", poolShifts...)
		row["GROUP_KEY"] = pick(t, p+"group", "G1", "G2", "G3", "G9")
		row["SUB_TARGET_NAME"] = pick(t, p+"name", "Day", "Night", "day")
		row["ESCALATION_SCHEDULE"] = pick(t, p+"escalation", "0", "0,5")
		row["IS_ROUND_ROBIN"] = pick(t, p+"roundRobin", "N", "Y")
	case archive.FileMemberships:
		row["TEAM_KEY"] = pick(t, p+"team", "T1", "T2", "T3", "T9")
		row["MEMBER_SUB_TYPE"] = ""
		typ := pick(t, p+"type", "PERSON", "DEVICE", "GROUP", "TEAM")
		row["MEMBER_TYPE"] = typ
		switch typ {
		case "PERSON":
			row["MEMBER_KEY"] = pick(t, p+"member", poolPeople...)
		case "DEVICE":
			if sub := pick(t, p+"sub", "EMAIL", "VOICE"); sub == "EMAIL" {
				row["MEMBER_SUB_TYPE"], row["MEMBER_KEY"] = sub, pick(t, p+"member", poolEmails...)
			} else {
				row["MEMBER_SUB_TYPE"], row["MEMBER_KEY"] = sub, pick(t, p+"member", poolVoices...)
			}
		case "GROUP":
			row["MEMBER_KEY"] = pick(t, p+"member", poolGroups...)
		case "TEAM":
			row["MEMBER_KEY"] = pick(t, p+"member", poolShifts...)
		}
		row["MEMBER_SEQUENCE_NUMBER"] = pick(t, p+"sequence", "1", "2", "3")
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
	archive.FileTeams:        {"EXTERNAL_KEY", "GROUP_KEY", "SUB_TARGET_NAME", "ESCALATION_SCHEDULE", "IS_ROUND_ROBIN", "IS_EXTERNALLY_OWNED"},
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
