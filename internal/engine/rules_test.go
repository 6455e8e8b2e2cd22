package engine_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

// base is a small archive with one of every common object.
func base() arc {
	return arc{rows: map[string][]string{
		archive.FileSites:        {"EXTERNAL_KEY=S1"},
		archive.FileUsers:        {"EXTERNAL_KEY=U1;USER_ID=ada", "EXTERNAL_KEY=U2;USER_ID=bob;SUPERVISOR_LIST=ada"},
		archive.FileEmail:        {"EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=ada@example.com", "EXTERNAL_KEY=E2;USER_KEY=U2;ADDRESS=bob@example.com"},
		archive.FileVoice:        {"EXTERNAL_KEY=V1;USER_KEY=U1;DEVICE_NAME=Home Phone;DEVICE_ORDER=1;DELAY=5"},
		archive.FileCustomValues: {"EXTERNAL_KEY=C1;CUSTOM_USER_KEY=U1"},
		archive.FileGroups:       {"EXTERNAL_KEY=G1;GROUP_NAME=Ops;SUPERVISOR_LIST=ada"},
		archive.FileTeams:        {"EXTERNAL_KEY=G1_day;GROUP_KEY=G1;ESCALATION_SCHEDULE=0,5"},
		archive.FileMemberships: {"TEAM_KEY=G1_day;MEMBER_KEY=U1;MEMBER_SEQUENCE_NUMBER=1",
			"TEAM_KEY=G1_day;MEMBER_KEY=U2;MEMBER_SEQUENCE_NUMBER=2"},
	}}
}

// with returns a copy of a with file's rows replaced.
func (a arc) with(file string, rows ...string) arc {
	b := a
	b.rows = map[string][]string{}
	for k, v := range a.rows {
		b.rows[k] = v
	}
	b.rows[file] = rows
	return b
}

func only(outcomes []string, file string) []string {
	var out []string
	for _, o := range outcomes {
		if strings.HasPrefix(o, strings.TrimSuffix(file, ".csv")+":") {
			out = append(out, o)
		}
	}
	return out
}

func summary(j *directory.Job, sync string) directory.SummaryLine {
	for _, s := range j.Summary {
		if s.Synchronizer == sync {
			return s
		}
	}
	return directory.SummaryLine{}
}

func details(j *directory.Job) []string {
	var out []string
	for _, d := range j.Details {
		out = append(out, d.Synchronizer+":"+itoa(d.Line)+":"+d.Status+":"+d.Level+":"+d.Event)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestInsertThenUnchanged(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		j := e.apply(base())
		if j.Status != directory.JobCompleted {
			t.Fatalf("status %s, details %v", j.Status, details(j))
		}
		for _, o := range outcomes(t, j) {
			if !strings.HasSuffix(o, ":INSERTED") {
				t.Errorf("first apply: %s, want INSERTED", o)
			}
		}
		d := e.dir()
		if len(d.people) != 2 || len(d.devices) != 3 || len(d.groups) != 1 || len(d.shifts) != 1 || len(d.customs) != 1 {
			t.Fatalf("directory after insert: %d people, %d devices, %d groups, %d shifts, %d custom values",
				len(d.people), len(d.devices), len(d.groups), len(d.shifts), len(d.customs))
		}
		if got := d.people["bob"].Supervisors; len(got) != 1 || got[0] != d.people["ada"].ID {
			t.Errorf("bob's supervisors = %v, want ada", got)
		}
		if d.people["ada"].PasswordSet {
			t.Error("a new person got a usable password despite forceNewPasswordReset=Y")
		}
		if got := d.members["G1_day"]; !cmp.Equal(got, []string{"PERSON:ada", "PERSON:bob"}) {
			t.Errorf("members = %v", got)
		}
		j = e.apply(base())
		for _, o := range outcomes(t, j) {
			if !strings.HasSuffix(o, ":UNCHANGED") {
				t.Errorf("second apply: %s, want UNCHANGED", o)
			}
		}
	})
}

// handMade adds objects made by hand (no external keys): site berlin,
// person ADA with a work email, group Ops.
func handMade(t *testing.T, e *env) {
	t.Helper()
	err := e.store.Update(e.ctx, e.company.ID, func(tx directory.Tx) error {
		site := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "berlin", Status: "ACTIVE", TimeZone: "Europe/Berlin"}
		p := &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: "ADA", FirstName: "A", LastName: "L", Status: "ACTIVE",
			SiteID: site.ID, Roles: []string{"Standard User"}, WebLogin: "ada"}
		d := &directory.Device{Common: directory.Common{ID: uuid.New()}, OwnerID: p.ID, Type: directory.Email, Name: "Work Email",
			Status: "ACTIVE", Address: "old@example.com"}
		g := &directory.Group{Common: directory.Common{ID: uuid.New()}, TargetName: "Ops", Status: "ACTIVE", TimeZone: "UTC"}
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		if err := tx.PutPeople(true, []*directory.Person{p}); err != nil {
			return err
		}
		if err := tx.PutGroups(true, []*directory.Group{g}); err != nil {
			return err
		}
		return tx.PutDevices(true, []*directory.Device{d})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMirrorSparesAdopted: objects that a mirror archive adopts got their
// keys from its rows, so the sweep keeps them.
func TestMirrorSparesAdopted(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		handMade(t, e)
		a := arc{mirror: true, rows: map[string][]string{
			archive.FileSites: {"EXTERNAL_KEY=S1"},
			archive.FileUsers: {"EXTERNAL_KEY=U1;USER_ID=ada"},
			archive.FileEmail: {"EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=ada@example.com"},
		}}
		j := e.apply(a)
		want := []string{"DS_SITES:2:ADOPTED", "DS_USERS:2:ADOPTED", "DS_EMAIL_DEVICES:2:ADOPTED"}
		if diff := cmp.Diff(want, outcomes(t, j)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		for _, s := range j.Summary {
			if s.RemovedByMirror != 0 {
				t.Errorf("%s: %d removed by mirror, want 0", s.Synchronizer, s.RemovedByMirror)
			}
		}
		d := e.dir()
		if p := d.people["ada"]; p == nil || p.ExternalKey != "U1" {
			t.Errorf("adopted person: %+v", d.people)
		}
		if dev := d.devices["ada|Work Email"]; dev == nil || dev.ExternalKey != "E1" {
			t.Errorf("adopted device: %+v", dev)
		}
	})
}

func TestUpdateAndAdoption(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		handMade(t, e)
		a := arc{rows: map[string][]string{
			archive.FileSites: {"EXTERNAL_KEY=S1"},
			archive.FileUsers: {"EXTERNAL_KEY=U1;USER_ID=ada"},
			archive.FileEmail: {"EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=ada@example.com"},
			// Groups are never adopted.
			archive.FileGroups: {"EXTERNAL_KEY=G1;GROUP_NAME=ops"},
		}}
		j := e.apply(a)
		want := []string{"DS_SITES:2:ADOPTED", "DS_USERS:2:ADOPTED", "DS_EMAIL_DEVICES:2:ADOPTED", "DS_GROUPS:2:FAILED"}
		if diff := cmp.Diff(want, outcomes(t, j)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		d := e.dir()
		if d.sites["Berlin"] == nil || d.sites["Berlin"].ExternalKey != "S1" {
			t.Errorf("adopted site: %+v", d.sites)
		}
		if p := d.people["ada"]; p == nil || p.ExternalKey != "U1" || p.FirstName != "Ada" {
			t.Errorf("adopted person: %+v", d.people)
		}
		if dev := d.devices["ada|Work Email"]; dev == nil || dev.ExternalKey != "E1" || dev.Address != "ada@example.com" {
			t.Errorf("adopted device: %+v", dev)
		}
		// An update of one field.
		j = e.apply(a.with(archive.FileUsers, "EXTERNAL_KEY=U1;USER_ID=ada;LAST_NAME=Byron"))
		if got := only(outcomes(t, j), archive.FileUsers); !cmp.Equal(got, []string{"DS_USERS:2:UPDATED"}) {
			t.Errorf("update outcomes = %v", got)
		}
		if e.dir().people["ada"].LastName != "Byron" {
			t.Error("LAST_NAME not updated")
		}
	})
}

func TestRemoveRows(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.apply(base())
		a := base().with(archive.FileUsers, "EXTERNAL_KEY=U2;ACTION=R", "EXTERNAL_KEY=U9;ACTION=R").
			with(archive.FileSites, "EXTERNAL_KEY=S1;ACTION=R").
			with(archive.FileEmail, "EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=ada@example.com").
			with(archive.FileMemberships, "TEAM_KEY=G1_day;MEMBER_KEY=U1")
		j := e.apply(a)
		got := outcomes(t, j)
		for _, w := range []string{"DS_USERS:2:REMOVED", "DS_USERS:3:IGNORED", "DS_SITES:2:FAILED"} {
			if !contains(got, w) {
				t.Errorf("missing outcome %s in %v", w, got)
			}
		}
		d := e.dir()
		if d.people["bob"] != nil || d.devices["bob|Work Email"] != nil {
			t.Error("bob or his device survived ACTION=R")
		}
		if d.sites["Berlin"] == nil {
			t.Error("a site still in use was removed")
		}
		if !contains(details(j), "DS_SITES:2:FAILURE:ROW:SITE_IN_USE") {
			t.Errorf("details = %v", details(j))
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestMirror(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.apply(base())
		// A person made by hand (no external key) is never removed by mirror.
		e.store.Update(e.ctx, e.company.ID, func(tx directory.Tx) error {
			var site uuid.UUID
			tx.Sites(func(s *directory.Site) error { site = s.ID; return nil })
			return tx.PutPeople(true, []*directory.Person{{Common: directory.Common{ID: uuid.New()}, TargetName: "manual", FirstName: "M",
				LastName: "M", Status: "ACTIVE", SiteID: site, Roles: []string{"Standard User"}}})
		})
		a := base().with(archive.FileUsers, "EXTERNAL_KEY=U1;USER_ID=ada").
			with(archive.FileEmail, "EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=ada@example.com").
			with(archive.FileVoice).
			with(archive.FileMemberships, "TEAM_KEY=G1_day;MEMBER_KEY=U1")
		a.mirror, a.ignore = true, "Home Phone"
		j := e.apply(a)
		if s := summary(j, "DS_USERS"); s.RemovedByMirror != 1 {
			t.Errorf("DS_USERS removed by mirror = %d, want 1 (bob)", s.RemovedByMirror)
		}
		d := e.dir()
		if d.people["bob"] != nil {
			t.Error("bob is not in the archive but survived mirror")
		}
		if d.people["manual"] == nil {
			t.Error("mirror removed a person without an external key")
		}
		if d.devices["ada|Home Phone"] == nil {
			t.Error("mirror removed a device whose name is in deviceNamesToIgnore")
		}
		if got := d.members["G1_day"]; !cmp.Equal(got, []string{"PERSON:ada"}) {
			t.Errorf("members = %v, want only ada", got)
		}
	})
}

func TestIgnoredDeviceNamesAndOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.apply(base())
		a := base().with(archive.FileVoice, "EXTERNAL_KEY=V1;USER_KEY=U1;DEVICE_NAME=Home Phone;PHONE_NUMBER=999").
			with(archive.FileEmail, "EXTERNAL_KEY=E1;USER_KEY=U1;ADDRESS=ada@example.com;DEVICE_ORDER=7;DELAY=9",
				"EXTERNAL_KEY=E2;USER_KEY=U2;ADDRESS=bob@example.com")
		a.ignore, a.ignoreOrderAndDelay = "Home Phone", true
		j := e.apply(a)
		if got := only(outcomes(t, j), archive.FileVoice); !cmp.Equal(got, []string{"DS_VOICE_DEVICES:2:IGNORED"}) {
			t.Errorf("voice outcomes = %v", got)
		}
		d := e.dir()
		if d.devices["ada|Home Phone"].Phone != "+49 30 1234567" {
			t.Error("a device with an ignored name was changed")
		}
		if dev := d.devices["ada|Work Email"]; dev.Order != 0 || dev.Delay != 0 {
			t.Errorf("ignoreDeviceOrderAndDelay=Y changed an existing person's device to order %d delay %d", dev.Order, dev.Delay)
		}
	})
}

func TestCascadeAndFieldWarnings(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		a := base().with(archive.FileUsers, "EXTERNAL_KEY=U1;USER_ID=ada;SUPERVISOR_LIST=nobody",
			"EXTERNAL_KEY=U2;USER_ID=bob;SITE_NAME=Atlantis")
		j := e.apply(a)
		if j.Status != directory.JobCompletedWithErrors {
			t.Errorf("status = %s", j.Status)
		}
		got := details(j)
		for _, w := range []string{
			"DS_USERS:2:WARNING:FIELD:UNKNOWN_SUPERVISOR",
			"DS_USERS:3:FAILURE:ROW:UNKNOWN_REFERENCE",
			"DS_EMAIL_DEVICES:3:FAILURE:ROW:DEPENDENCY_FAILED",
			"DS_TEAM_MEMBERSHIPS:3:FAILURE:ROW:DEPENDENCY_FAILED",
		} {
			if !contains(got, w) {
				t.Errorf("missing detail %s in %v", w, got)
			}
		}
		if d := e.dir(); d.people["ada"] == nil || d.people["bob"] != nil {
			t.Error("ada should be in (without the unknown supervisor), bob out")
		}
	})
}

func TestShiftMembersReplacedFromFile(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.apply(base())
		j := e.apply(base().with(archive.FileMemberships, "TEAM_KEY=G1_day;MEMBER_KEY=U2;MEMBER_SEQUENCE_NUMBER=1",
			"TEAM_KEY=G1_day;MEMBER_KEY=E1;MEMBER_TYPE=DEVICE;MEMBER_SUB_TYPE=EMAIL;MEMBER_SEQUENCE_NUMBER=2"))
		if got := only(outcomes(t, j), archive.FileMemberships); !cmp.Equal(got, []string{"DS_TEAM_MEMBERSHIPS:2:UPDATED", "DS_TEAM_MEMBERSHIPS:3:INSERTED"}) {
			t.Errorf("membership outcomes = %v", got)
		}
		if got := e.dir().members["G1_day"]; !cmp.Equal(got, []string{"PERSON:bob", "DEVICE:"}) {
			t.Errorf("members = %v, want bob then ada's email", got)
		}
	})
}

func TestCompaniesAreIsolated(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		other := addCompany(t, e.store, "Other")
		e.apply(base())
		j := e.applyTo(other, base())
		for _, o := range outcomes(t, j) {
			if !strings.HasSuffix(o, ":INSERTED") {
				t.Errorf("other company: %s, want INSERTED (same keys, separate directory)", o)
			}
		}
		a := base()
		a.mirror = true
		a.rows = map[string][]string{archive.FileSites: {"EXTERNAL_KEY=S1"}}
		e.applyTo(other, a) // empties Other but its site
		if d := e.dir(); len(d.people) != 2 || len(d.groups) != 1 {
			t.Errorf("a mirror of another company changed this one: %d people, %d groups", len(d.people), len(d.groups))
		}
	})
}

func TestInvalidArchiveChangesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		path := t.TempDir() + "/bad.zip"
		writeFile(t, path, "not a zip")
		job, err := e.eng.Apply(e.ctx, e.company, path, engineJob())
		if err == nil || job == nil || job.Status != directory.JobFailed {
			t.Fatalf("Apply of a non-zip: job %+v, err %v", job, err)
		}
		stored, err := e.store.Job(e.ctx, e.company.ID, job.ID)
		if err != nil || stored.Status != directory.JobFailed || len(stored.Details) == 0 {
			t.Errorf("stored job %+v, err %v", stored, err)
		}
	})
}
