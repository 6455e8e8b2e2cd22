package storetest

import (
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var uniqueTests = []test{
	{"Taken", testUniqueTaken},
	{"Allowed", testUniqueAllowed},
}

// testUniqueTaken: an ID or unique name that is taken is ErrExists, and
// the Update changes nothing.
func testUniqueTaken(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()
	p0 := w.person[0]

	cases := []struct {
		name string
		fn   func(directory.Tx) error
	}{
		{"site ID", func(tx directory.Tx) error {
			return tx.PutSites(true, []*directory.Site{newSite("SX", "Other"), want.Sites[0]})
		}},
		{"site name", func(tx directory.Tx) error {
			return tx.PutSites(true, []*directory.Site{newSite("SX", "zürich hq")})
		}},
		{"site renamed", func(tx directory.Tx) error {
			x := *w.site[1]
			x.Name = "ZüRICH HQ"
			return tx.PutSites(false, []*directory.Site{&x})
		}},
		{"person ID", func(tx directory.Tx) error {
			x := *p0
			x.TargetName = "someone-else"
			return tx.PutPeople(true, []*directory.Person{&x})
		}},
		{"person target name", func(tx directory.Tx) error {
			return tx.PutPeople(true, []*directory.Person{newPerson("PX", "USER1", w.site[0].ID)})
		}},
		{"person target name in one batch", func(tx directory.Tx) error {
			return tx.PutPeople(true, []*directory.Person{
				newPerson("PX", "new-user", w.site[0].ID),
				newPerson("PY", "New-User", w.site[0].ID),
			})
		}},
		{"person renamed", func(tx directory.Tx) error {
			x := *w.person[1]
			x.TargetName = "User2"
			return tx.PutPeople(false, []*directory.Person{&x})
		}},
		{"device ID", func(tx directory.Tx) error {
			x := *w.device["P1|EMAIL"]
			x.Name = "Another"
			return tx.PutDevices(true, []*directory.Device{&x})
		}},
		{"device name", func(tx directory.Tx) error {
			return tx.PutDevices(true, []*directory.Device{newDevice("DX", p0.ID, directory.Email, "device voice", 9)})
		}},
		{"custom value ID", func(tx directory.Tx) error {
			x := *w.customP1
			x.FieldKey = "BADGE"
			return tx.PutCustomValues(true, []*directory.CustomValue{&x})
		}},
		{"custom field key", func(tx directory.Tx) error {
			v := &directory.CustomValue{Common: common("VX", true), PersonID: p0.ID, FieldKey: "DEPARTMENT", Value: "again"}
			return tx.PutCustomValues(true, []*directory.CustomValue{v})
		}},
		{"group ID", func(tx directory.Tx) error {
			x := *w.group[1]
			x.TargetName = "another-group"
			return tx.PutGroups(true, []*directory.Group{&x})
		}},
		{"group target name", func(tx directory.Tx) error {
			return tx.PutGroups(true, []*directory.Group{newGroup("GX", "OnCall-DB", uuid.Nil)})
		}},
		{"shift ID", func(tx directory.Tx) error {
			x := *w.day
			x.Name = "Evening"
			return tx.PutShifts(true, []*directory.Shift{&x})
		}},
		{"shift name", func(tx directory.Tx) error {
			return tx.PutShifts(true, []*directory.Shift{newShift("SX", w.group[0].ID, "NIGHT")})
		}},
	}
	for _, c := range cases {
		err := s.Update(ctx(t), id, c.fn)
		if !errors.Is(err, directory.ErrExists) {
			t.Errorf("%s taken: Update = %v, want ErrExists", c.name, err)
		}
	}
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory changed (-want +got):\n%s", diff)
	}
}

// testUniqueAllowed: names are unique only within their scope.
func testUniqueAllowed(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()

	// Another owner's device name, another group's shift name, another
	// person's field key; and a person and a group that swap nothing but
	// reuse a freed name in one transaction.
	d := newDevice("DX", w.person[1].ID, directory.Fax, "Device FAX", 3)
	sh := newShift("SX", w.group[1].ID, "Day")
	v := &directory.CustomValue{Common: common("VX", true), PersonID: w.person[2].ID, FieldKey: "DEPARTMENT", Value: "Sales"}
	renamed := *w.person[3]
	renamed.TargetName = "user3-old"
	reuse := newPerson("PX", "USER3", w.site[0].ID)
	update(t, s, id, func(tx directory.Tx) error {
		if err := tx.PutDevices(true, []*directory.Device{d}); err != nil {
			return err
		}
		if err := tx.PutShifts(true, []*directory.Shift{sh}); err != nil {
			return err
		}
		if err := tx.PutCustomValues(true, []*directory.CustomValue{v}); err != nil {
			return err
		}
		if err := tx.PutPeople(false, []*directory.Person{&renamed}); err != nil {
			return err
		}
		return tx.PutPeople(true, []*directory.Person{reuse})
	})
	want.Devices = append(want.Devices, d)
	want.Shifts = append(want.Shifts, sh)
	want.CustomValues = append(want.CustomValues, v)
	for i, p := range want.People {
		if p.ID == renamed.ID {
			want.People[i] = &renamed
		}
	}
	want.People = append(want.People, reuse)
	want.sort()
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}
