package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
)

// swapBase has two sites, three people, two groups and two email devices
// of one person, for renames that swap or chain names.
func swapBase() arc {
	return arc{rows: map[string][]string{
		archive.FileSites: {"EXTERNAL_KEY=S1;SITENAME=Berlin", "EXTERNAL_KEY=S2;SITENAME=Paris"},
		archive.FileUsers: {"EXTERNAL_KEY=K1;USER_ID=alice", "EXTERNAL_KEY=K2;USER_ID=bob;SUPERVISOR_LIST=alice",
			"EXTERNAL_KEY=K3;USER_ID=carol"},
		archive.FileEmail: {"EXTERNAL_KEY=E1;USER_KEY=K1;DEVICE_NAME=Work Email;ADDRESS=w@example.com",
			"EXTERNAL_KEY=E2;USER_KEY=K1;DEVICE_NAME=Home Email;ADDRESS=h@example.com"},
		archive.FileVoice: {"EXTERNAL_KEY=V1;USER_KEY=K1;DEVICE_NAME=Work Phone", "EXTERNAL_KEY=V2;USER_KEY=K1;DEVICE_NAME=Home Phone",
			"EXTERNAL_KEY=V3;USER_KEY=K1;DEVICE_NAME=Mobile Phone"},
		archive.FileGroups: {"EXTERNAL_KEY=G1;GROUP_NAME=Ops", "EXTERNAL_KEY=G2;GROUP_NAME=Dev"},
	}}
}

// TestNameSwaps: names that objects of one archive trade among themselves
// collide only on the way, not in the end state (processing.md §4: a ROW
// failure is a name that collides with another object).
func TestNameSwaps(t *testing.T) {
	for _, chunk := range []int{1, 2, 1 << 30} { // people, devices: written in chunks of this many
		t.Run(fmt.Sprint("chunk", chunk), func(t *testing.T) {
			defer engine.SetFlushEvery(chunk)()
			testNameSwaps(t)
		})
	}
}

func testNameSwaps(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		if j := e.apply(swapBase()); j.Status != directory.JobCompleted {
			t.Fatalf("base: %s %v", j.Status, details(j))
		}
		before := e.dir()
		swapped := swapBase().
			with(archive.FileSites, "EXTERNAL_KEY=S1;SITENAME=Paris", "EXTERNAL_KEY=S2;SITENAME=Berlin").
			// K1 and K2 swap; K3 takes a name that K1 frees only later
			// in the file (a chain).
			with(archive.FileUsers, "EXTERNAL_KEY=K3;USER_ID=dave", "EXTERNAL_KEY=K1;USER_ID=bob;SITE_NAME=Paris",
				"EXTERNAL_KEY=K2;USER_ID=Alice;SUPERVISOR_LIST=bob", "EXTERNAL_KEY=K4;USER_ID=carol").
			with(archive.FileEmail, "EXTERNAL_KEY=E1;USER_KEY=K1;DEVICE_NAME=Home Email;ADDRESS=w@example.com",
				"EXTERNAL_KEY=E2;USER_KEY=K1;DEVICE_NAME=Work Email;ADDRESS=h@example.com").
			// A cycle of three.
			with(archive.FileVoice, "EXTERNAL_KEY=V1;USER_KEY=K1;DEVICE_NAME=Home Phone", "EXTERNAL_KEY=V2;USER_KEY=K1;DEVICE_NAME=Mobile Phone",
				"EXTERNAL_KEY=V3;USER_KEY=K1;DEVICE_NAME=Work Phone").
			with(archive.FileGroups, "EXTERNAL_KEY=G1;GROUP_NAME=Dev", "EXTERNAL_KEY=G2;GROUP_NAME=Ops")
		j := e.apply(swapped)
		if j.Status != directory.JobCompleted {
			t.Fatalf("swap: %s %v", j.Status, details(j))
		}
		d := e.dir()
		for name, key := range map[string]string{"bob": "K1", "Alice": "K2", "dave": "K3", "carol": "K4"} {
			if p := d.people[name]; p == nil || p.ExternalKey != key {
				t.Errorf("person %q: %+v, want key %s", name, p, key)
			}
		}
		if p := d.people["bob"]; p != nil && p.ID != before.people["alice"].ID {
			t.Error("K1 changed its ID")
		}
		if p, k1 := d.people["Alice"], d.people["bob"]; p != nil && k1 != nil && !slices.Equal(p.Supervisors, []uuid.UUID{k1.ID}) {
			t.Errorf("K2's supervisors = %v, want K1", p.Supervisors)
		}
		if s := d.sites["Paris"]; s == nil || s.ExternalKey != "S1" {
			t.Errorf("site Paris: %+v, want S1", s)
		}
		if s := d.sites["Berlin"]; s == nil || s.ExternalKey != "S2" {
			t.Errorf("site Berlin: %+v, want S2", s)
		}
		if p := d.people["bob"]; p != nil && p.SiteID != before.sites["Berlin"].ID {
			t.Error("K1 is not at S1 (now named Paris)")
		}
		if dv := d.devices["bob|Home Email"]; dv == nil || dv.ExternalKey != "E1" {
			t.Errorf("device Home Email: %+v, want E1", dv)
		}
		if dv := d.devices["bob|Work Email"]; dv == nil || dv.ExternalKey != "E2" {
			t.Errorf("device Work Email: %+v, want E2", dv)
		}
		for name, key := range map[string]string{"Home Phone": "V1", "Mobile Phone": "V2", "Work Phone": "V3"} {
			if dv := d.devices["bob|"+name]; dv == nil || dv.ExternalKey != key {
				t.Errorf("device %s: %+v, want %s", name, dv, key)
			}
		}
		if g := d.groups["Dev"]; g == nil || g.ExternalKey != "G1" {
			t.Errorf("group Dev: %+v, want G1", g)
		}
		if g := d.groups["Ops"]; g == nil || g.ExternalKey != "G2" {
			t.Errorf("group Ops: %+v, want G2", g)
		}
		// Applied again, nothing changes.
		j = e.apply(swapped)
		if got := summary(j, "DS_USERS").Unchanged; got != 4 {
			t.Errorf("again: %d people unchanged, want 4 (%v)", got, details(j))
		}
	})
}

// TestNameSwapHalfFails: when one side of a swap fails, the other side
// collides in the end state and fails too; the job still completes.
func TestNameSwapHalfFails(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		if j := e.apply(swapBase()); j.Status != directory.JobCompleted {
			t.Fatalf("base: %s %v", j.Status, details(j))
		}
		j := e.apply(swapBase().with(archive.FileUsers, "EXTERNAL_KEY=K1;USER_ID=bob",
			"EXTERNAL_KEY=K2;USER_ID=alice;SITE_NAME=Nowhere", "EXTERNAL_KEY=K3;USER_ID=carol"))
		if j.Status != directory.JobCompletedWithErrors {
			t.Fatalf("status %s, want COMPLETED_WITH_ERRORS", j.Status)
		}
		got := only(details(j), archive.FileUsers)
		want := []string{"DS_USERS:2:FAILURE:ROW:NAME_COLLISION", "DS_USERS:3:FAILURE:ROW:UNKNOWN_REFERENCE"}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("details %v, want %v", got, want)
		}
		d := e.dir()
		if d.people["alice"].ExternalKey != "K1" || d.people["bob"].ExternalKey != "K2" {
			t.Error("the directory changed")
		}
	})
}
