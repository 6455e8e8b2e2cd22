package storetest

import (
	"fmt"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var deleteTests = []test{
	{"Cascades", testDeleteCascades},
}

// The reference: what each Delete does to a snapshot, as the Tx doc
// comments say.

func has(ids []uuid.UUID, id uuid.UUID) bool { return slices.Contains(ids, id) }

func dropMembers(s *Snapshot, drop func(*directory.Member) bool) {
	s.Members = slices.DeleteFunc(s.Members, drop)
}

func refDeletePeople(s *Snapshot, ids []uuid.UUID) {
	var devices []uuid.UUID
	for _, d := range s.Devices {
		if has(ids, d.OwnerID) {
			devices = append(devices, d.ID)
		}
	}
	s.People = slices.DeleteFunc(s.People, func(o *directory.Person) bool { return has(ids, o.ID) })
	s.Devices = slices.DeleteFunc(s.Devices, func(o *directory.Device) bool { return has(ids, o.OwnerID) })
	s.CustomValues = slices.DeleteFunc(s.CustomValues, func(o *directory.CustomValue) bool { return has(ids, o.PersonID) })
	notGone := func(l []uuid.UUID) []uuid.UUID {
		l = slices.DeleteFunc(l, func(id uuid.UUID) bool { return has(ids, id) })
		if len(l) == 0 {
			return nil
		}
		return l
	}
	for _, p := range s.People {
		p.Supervisors = notGone(p.Supervisors)
	}
	for _, g := range s.Groups {
		g.Supervisors = notGone(g.Supervisors)
	}
	dropMembers(s, func(m *directory.Member) bool { return has(ids, m.MemberID) || has(devices, m.MemberID) })
}

func refDeleteDevices(s *Snapshot, ids []uuid.UUID) {
	s.Devices = slices.DeleteFunc(s.Devices, func(o *directory.Device) bool { return has(ids, o.ID) })
	dropMembers(s, func(m *directory.Member) bool { return has(ids, m.MemberID) })
}

func refDeleteCustomValues(s *Snapshot, ids []uuid.UUID) {
	s.CustomValues = slices.DeleteFunc(s.CustomValues, func(o *directory.CustomValue) bool { return has(ids, o.ID) })
}

func refDeleteShifts(s *Snapshot, ids []uuid.UUID) {
	s.Shifts = slices.DeleteFunc(s.Shifts, func(o *directory.Shift) bool { return has(ids, o.ID) })
	dropMembers(s, func(m *directory.Member) bool { return has(ids, m.ShiftID) || has(ids, m.MemberID) })
}

func refDeleteGroups(s *Snapshot, ids []uuid.UUID) {
	var shifts []uuid.UUID
	for _, sh := range s.Shifts {
		if has(ids, sh.GroupID) {
			shifts = append(shifts, sh.ID)
		}
	}
	refDeleteShifts(s, shifts)
	s.Groups = slices.DeleteFunc(s.Groups, func(o *directory.Group) bool { return has(ids, o.ID) })
	dropMembers(s, func(m *directory.Member) bool { return has(ids, m.MemberID) })
}

func refDeleteSites(s *Snapshot, ids []uuid.UUID) {
	s.Sites = slices.DeleteFunc(s.Sites, func(o *directory.Site) bool { return has(ids, o.ID) })
}

// deletion is one Delete call, applied to the store and to the reference.
type deletion struct {
	kind string
	ids  []uuid.UUID
}

func (d deletion) store(tx directory.Tx) error {
	var err error
	switch d.kind {
	case "people":
		err = tx.DeletePeople(d.ids)
	case "devices":
		err = tx.DeleteDevices(d.ids)
	case "custom values":
		err = tx.DeleteCustomValues(d.ids)
	case "groups":
		err = tx.DeleteGroups(d.ids)
	case "shifts":
		err = tx.DeleteShifts(d.ids)
	case "sites":
		err = tx.DeleteSites(d.ids)
	default:
		panic(d.kind)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", d.kind, err)
	}
	return nil
}

func (d deletion) ref(s *Snapshot) {
	switch d.kind {
	case "people":
		refDeletePeople(s, d.ids)
	case "devices":
		refDeleteDevices(s, d.ids)
	case "custom values":
		refDeleteCustomValues(s, d.ids)
	case "groups":
		refDeleteGroups(s, d.ids)
	case "shifts":
		refDeleteShifts(s, d.ids)
	case "sites":
		refDeleteSites(s, d.ids)
	}
}

func testDeleteCascades(t *testing.T, s directory.Store) {
	ids := func(objs ...directory.Common) []uuid.UUID {
		var out []uuid.UUID
		for _, o := range objs {
			out = append(out, o.ID)
		}
		return out
	}
	cases := []struct {
		name string
		dels func(w *world) []deletion
	}{
		{"person who supervises, is a member and has a member device", func(w *world) []deletion {
			return []deletion{{"people", ids(w.person[0].Common)}}
		}},
		{"two people", func(w *world) []deletion {
			return []deletion{{"people", ids(w.person[2].Common, w.person[0].Common)}}
		}},
		{"every person", func(w *world) []deletion {
			return []deletion{{"people", ids(w.person[0].Common, w.person[1].Common, w.person[2].Common, w.person[3].Common)}}
		}},
		{"devices that are members", func(w *world) []deletion {
			return []deletion{{"devices", ids(w.device["P0|VOICE"].Common, w.device["P2|EMAIL"].Common, w.device["P3|VOICE"].Common)}}
		}},
		{"custom value", func(w *world) []deletion {
			return []deletion{{"custom values", ids(w.customP0.Common)}}
		}},
		{"group that is a member and whose shift is a member", func(w *world) []deletion {
			return []deletion{{"groups", ids(w.group[1].Common)}}
		}},
		{"group with two shifts", func(w *world) []deletion {
			return []deletion{{"groups", ids(w.group[0].Common)}}
		}},
		{"shift that is a member", func(w *world) []deletion {
			return []deletion{{"shifts", ids(w.always.Common)}}
		}},
		{"shift with a shift member", func(w *world) []deletion {
			return []deletion{{"shifts", ids(w.night.Common)}}
		}},
		{"site no longer used", func(w *world) []deletion {
			return []deletion{
				{"people", ids(w.person[1].Common, w.person[3].Common)},
				{"sites", ids(w.site[1].Common)},
			}
		}},
		{"everything in removal order", func(w *world) []deletion {
			return []deletion{
				{"shifts", ids(w.day.Common, w.night.Common, w.always.Common)},
				{"groups", ids(w.group[0].Common, w.group[1].Common)},
				{"custom values", ids(w.customP0.Common, w.customP0b.Common, w.customP1.Common)},
				{"devices", ids(w.device["P0|EMAIL"].Common)},
				{"people", ids(w.person[0].Common, w.person[1].Common, w.person[2].Common, w.person[3].Common)},
				{"sites", ids(w.site[0].Common, w.site[1].Common)},
			}
		}},
		{"unknown IDs", func(w *world) []deletion {
			var out []deletion
			for _, k := range []string{"people", "devices", "custom values", "groups", "shifts", "sites"} {
				out = append(out, deletion{k, []uuid.UUID{uuid.New(), uuid.New()}})
			}
			return out
		}},
		{"twice", func(w *world) []deletion {
			return []deletion{{"people", ids(w.person[0].Common)}, {"people", ids(w.person[0].Common)}}
		}},
	}
	for i, c := range cases {
		id := newCompany(t, s, fmt.Sprintf("Company %d", i))
		w := newWorld()
		put(t, s, id, true, w.Snapshot)
		want := w.clone()
		dels := c.dels(w)
		for _, d := range dels {
			d.ref(want)
		}
		want.sort()
		if err := s.Update(ctx(t), id, func(tx directory.Tx) error {
			for _, d := range dels {
				if err := d.store(tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Errorf("%s: Update: %v", c.name, err)
			continue
		}
		if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
			t.Errorf("%s: directory (-want +got):\n%s", c.name, diff)
		}
	}
}
