package storetest

import (
	"errors"
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var objectTests = []test{
	{"InsertRoundTrip", testInsertRoundTrip},
	{"UpdateRoundTrip", testUpdateRoundTrip},
	{"UpdateUnchanged", testUpdateUnchanged},
	{"EmptyListsAreNil", testEmptyListsAreNil},
	{"UpdateMissing", testUpdateMissing},
	{"InsertInSeveralCalls", testInsertInSeveralCalls},
	{"EmptyBatches", testEmptyBatches},
}

func testInsertRoundTrip(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	want := w.clone()
	put(t, s, id, true, w.Snapshot)
	got := snapshot(t, s, id)
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("directory after insert (-want +got):\n%s", diff)
	}
	// The objects put stay the caller's: the store kept copies.
	if diff := gocmp.Diff(want, w.Snapshot); diff != "" {
		t.Errorf("Put changed the objects it was given (-before +after):\n%s", diff)
	}
}

func testUpdateRoundTrip(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)

	next := w.clone()
	change(next)
	want := next.clone()
	next.Members = nil // members are not Put; SetMembers is tested on its own
	put(t, s, id, false, next)
	got := snapshot(t, s, id)
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("directory after update (-want +got):\n%s", diff)
	}

	// And back again: every field can return to its first value.
	back := w.clone()
	back.Members = nil
	put(t, s, id, false, back)
	got = snapshot(t, s, id)
	if diff := gocmp.Diff(w.clone(), got); diff != "" {
		t.Errorf("directory after updating back (-want +got):\n%s", diff)
	}
}

func testUpdateUnchanged(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	same := w.clone()
	same.Members = nil
	put(t, s, id, false, same)
	if diff := gocmp.Diff(w.clone(), snapshot(t, s, id)); diff != "" {
		t.Errorf("directory after a same-value update (-want +got):\n%s", diff)
	}
}

func testEmptyListsAreNil(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	site := newSite("S", "Site")
	p := newPerson("P", "user", site.ID)
	p.Roles, p.Supervisors = []string{}, []uuid.UUID{}
	g := newGroup("G", "group", uuid.Nil)
	g.Observers, g.Supervisors = []string{}, []uuid.UUID{}
	sh := newShift("S", g.ID, "Day")
	sh.Escalation = []int{}
	put(t, s, id, true, &Snapshot{Sites: []*directory.Site{site}, People: []*directory.Person{p}, Groups: []*directory.Group{g}, Shifts: []*directory.Shift{sh}})
	got := snapshot(t, s, id)
	if len(got.People) != 1 || len(got.Groups) != 1 || len(got.Shifts) != 1 {
		t.Fatalf("directory: %s, want one person, group and shift", got.counts())
	}
	if got.People[0].Roles != nil || got.People[0].Supervisors != nil {
		t.Errorf("person lists = %#v, %#v, want nil, nil", got.People[0].Roles, got.People[0].Supervisors)
	}
	if got.Groups[0].Observers != nil || got.Groups[0].Supervisors != nil {
		t.Errorf("group lists = %#v, %#v, want nil, nil", got.Groups[0].Observers, got.Groups[0].Supervisors)
	}
	if got.Shifts[0].Escalation != nil {
		t.Errorf("shift escalation = %#v, want nil", got.Shifts[0].Escalation)
	}
	if got.Groups[0].SiteID != uuid.Nil {
		t.Errorf("group site = %v, want uuid.Nil", got.Groups[0].SiteID)
	}
}

// testUpdateMissing: Put with insert=false of an ID the company does not
// have is ErrNotFound, and the Update changes nothing.
func testUpdateMissing(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()

	other := newWorld()
	cases := []struct {
		name string
		fn   func(directory.Tx) error
	}{
		{"sites", func(tx directory.Tx) error { return tx.PutSites(false, other.Sites[:1]) }},
		{"people", func(tx directory.Tx) error {
			p := newPerson("PX", "userx", w.site[0].ID)
			return tx.PutPeople(false, []*directory.Person{p})
		}},
		{"devices", func(tx directory.Tx) error {
			d := newDevice("DX", w.person[0].ID, directory.Email, "New", 1)
			return tx.PutDevices(false, []*directory.Device{d})
		}},
		{"custom values", func(tx directory.Tx) error {
			v := &directory.CustomValue{Common: common("VX", true), PersonID: w.person[0].ID, FieldKey: "BADGE", Value: "1"}
			return tx.PutCustomValues(false, []*directory.CustomValue{v})
		}},
		{"groups", func(tx directory.Tx) error {
			return tx.PutGroups(false, []*directory.Group{newGroup("GX", "gx", uuid.Nil)})
		}},
		{"shifts", func(tx directory.Tx) error {
			return tx.PutShifts(false, []*directory.Shift{newShift("SX", w.group[0].ID, "New")})
		}},
		{"members", func(tx directory.Tx) error {
			return tx.SetMembers(map[uuid.UUID][]*directory.Member{uuid.New(): nil})
		}},
	}
	for _, c := range cases {
		// An existing object first, so a store must not stop at the first
		// row that matches.
		err := s.Update(ctx(t), id, func(tx directory.Tx) error {
			if err := tx.PutSites(false, []*directory.Site{want.Sites[0]}); err != nil {
				return fmt.Errorf("update of an existing site: %w", err)
			}
			return c.fn(tx)
		})
		if !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("update of missing %s = %v, want ErrNotFound", c.name, err)
		}
	}
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory changed (-want +got):\n%s", diff)
	}
}

// testInsertInSeveralCalls puts the world one object kind per Update, and
// objects one per call.
func testInsertInSeveralCalls(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	for _, o := range w.Sites {
		update(t, s, id, func(tx directory.Tx) error { return tx.PutSites(true, []*directory.Site{o}) })
	}
	// People without supervisors first, then the links, as the engine does.
	update(t, s, id, func(tx directory.Tx) error {
		for _, o := range w.People {
			p := *o
			p.Supervisors = nil
			if err := tx.PutPeople(true, []*directory.Person{&p}); err != nil {
				return err
			}
		}
		return tx.PutPeople(false, w.People)
	})
	update(t, s, id, func(tx directory.Tx) error {
		for _, o := range w.Devices {
			if err := tx.PutDevices(true, []*directory.Device{o}); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, id, func(tx directory.Tx) error { return tx.PutCustomValues(true, w.CustomValues) })
	update(t, s, id, func(tx directory.Tx) error { return tx.PutGroups(true, w.Groups) })
	update(t, s, id, func(tx directory.Tx) error { return tx.PutShifts(true, w.Shifts) })
	update(t, s, id, func(tx directory.Tx) error {
		for _, sh := range w.Shifts {
			var ms []*directory.Member
			for _, m := range w.Members {
				if m.ShiftID == sh.ID {
					ms = append(ms, m)
				}
			}
			if err := tx.SetMembers(map[uuid.UUID][]*directory.Member{sh.ID: ms}); err != nil {
				return err
			}
		}
		return nil
	})
	if diff := gocmp.Diff(w.clone(), snapshot(t, s, id)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func testEmptyBatches(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	update(t, s, id, func(tx directory.Tx) error {
		for _, err := range []error{
			tx.PutSites(true, nil), tx.PutSites(false, nil), tx.DeleteSites(nil),
			tx.PutPeople(true, nil), tx.PutPeople(false, nil), tx.DeletePeople(nil),
			tx.PutDevices(true, nil), tx.PutDevices(false, nil), tx.DeleteDevices(nil),
			tx.PutCustomValues(true, nil), tx.PutCustomValues(false, nil), tx.DeleteCustomValues(nil),
			tx.PutGroups(true, nil), tx.PutGroups(false, nil), tx.DeleteGroups(nil),
			tx.PutShifts(true, nil), tx.PutShifts(false, nil), tx.DeleteShifts(nil),
			tx.SetMembers(nil), tx.SetMembers(map[uuid.UUID][]*directory.Member{}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if diff := gocmp.Diff(&Snapshot{}, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}
