package storetest

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var memberTests = []test{
	{"SetMembersReplaces", testSetMembersReplaces},
}

// shiftMembers returns the members of one shift, by Sequence.
func shiftMembers(s *Snapshot, shift uuid.UUID) []*directory.Member {
	var out []*directory.Member
	for _, m := range s.Members {
		if m.ShiftID == shift {
			out = append(out, m)
		}
	}
	return out
}

func testSetMembersReplaces(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	p := w.person

	// Replace Day's members with a shorter list in another order, with
	// ShiftID left unset (the map key names the shift); leave Night and
	// Always alone.
	day := []*directory.Member{
		{Type: directory.MemberPerson, MemberID: p[3].ID, Sequence: 1, Owned: false},
		{Type: directory.MemberShift, MemberID: w.night.ID, Sequence: 2, Owned: true},
	}
	update(t, s, id, func(tx directory.Tx) error {
		return tx.SetMembers(map[uuid.UUID][]*directory.Member{w.day.ID: day})
	})
	got := snapshot(t, s, id)
	want := []*directory.Member{
		member(w.day, directory.MemberPerson, p[3].ID, 1, false),
		member(w.day, directory.MemberShift, w.night.ID, 2, true),
	}
	if diff := gocmp.Diff(want, shiftMembers(got, w.day.ID)); diff != "" {
		t.Errorf("Day members (-want +got):\n%s", diff)
	}
	for _, sh := range []*directory.Shift{w.night, w.always} {
		if diff := gocmp.Diff(shiftMembers(w.Snapshot, sh.ID), shiftMembers(got, sh.ID)); diff != "" {
			t.Errorf("%s members changed (-want +got):\n%s", sh.Name, diff)
		}
	}

	// Two shifts at once: Night loses all, Always gets new ones; sequences
	// are kept as given, gaps and all.
	always := []*directory.Member{
		member(w.always, directory.MemberDevice, w.device["P0|FAX"].ID, 10, true),
		member(w.always, directory.MemberPerson, p[1].ID, 20, true),
		member(w.always, directory.MemberGroup, w.group[0].ID, 30, false),
	}
	update(t, s, id, func(tx directory.Tx) error {
		return tx.SetMembers(map[uuid.UUID][]*directory.Member{w.night.ID: {}, w.always.ID: always})
	})
	got = snapshot(t, s, id)
	if m := shiftMembers(got, w.night.ID); len(m) != 0 {
		t.Errorf("Night has %d members, want none", len(m))
	}
	if diff := gocmp.Diff(always, shiftMembers(got, w.always.ID)); diff != "" {
		t.Errorf("Always members (-want +got):\n%s", diff)
	}
	if len(shiftMembers(got, w.day.ID)) != 2 {
		t.Errorf("Day members changed")
	}

	// Setting a shift twice in one transaction keeps the last; a nil list
	// empties it.
	update(t, s, id, func(tx directory.Tx) error {
		if err := tx.SetMembers(map[uuid.UUID][]*directory.Member{w.day.ID: {member(w.day, directory.MemberPerson, p[0].ID, 1, true)}}); err != nil {
			return err
		}
		return tx.SetMembers(map[uuid.UUID][]*directory.Member{w.day.ID: {member(w.day, directory.MemberPerson, p[2].ID, 1, true)}, w.always.ID: nil})
	})
	got = snapshot(t, s, id)
	if diff := gocmp.Diff([]*directory.Member{member(w.day, directory.MemberPerson, p[2].ID, 1, true)}, got.Members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}
