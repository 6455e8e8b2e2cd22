package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var totalTests = []test{
	{"AfterWrites", testTotalsAfterWrites},
}

// TotalsAcrossStores checks that a page's total, read through a, is exact
// after each write made through b, another Store on the same database (a
// second epicd): a total kept by a must not outlive a change it did not
// make itself.
func TotalsAcrossStores(t *testing.T, a, b directory.Store) {
	t.Helper()
	co := newCompany(t, b, "Shared")
	totalsFollowWrites(t, a, b, co)
}

func testTotalsAfterWrites(t *testing.T, s directory.Store) {
	totalsFollowWrites(t, s, s, newCompany(t, s, "Acme"))
}

// totalsFollowWrites reads a one-object page of every kind through r
// between writes through w, each read twice (the second may be answered
// from what the first kept), and checks the totals.
func totalsFollowWrites(t *testing.T, r, w directory.Store, co uuid.UUID) {
	t.Helper()
	other := newCompany(t, w, "Other company")
	site := newSite("S", "Site")
	group := newGroup("G", "Group", uuid.Nil)
	update(t, w, co, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		return tx.PutGroups(true, []*directory.Group{group})
	})
	var people []*directory.Person
	want := func(step string, nPeople, nSites, nDevices, nGroups, nShifts int) {
		t.Helper()
		for i := range 2 {
			q := directory.Query{Limit: 1}
			_, n, err := r.ReadPeople(ctx(t), co, q)
			check(t, fmt.Sprintf("%s: ReadPeople (read %d)", step, i+1), err, n, nPeople)
			_, n, err = r.ReadSites(ctx(t), co, q)
			check(t, fmt.Sprintf("%s: ReadSites (read %d)", step, i+1), err, n, nSites)
			_, n, err = r.ReadDevices(ctx(t), co, q)
			check(t, fmt.Sprintf("%s: ReadDevices (read %d)", step, i+1), err, n, nDevices)
			_, n, err = r.ReadGroups(ctx(t), co, q)
			check(t, fmt.Sprintf("%s: ReadGroups (read %d)", step, i+1), err, n, nGroups)
			_, n, err = r.ReadShifts(ctx(t), co, q)
			check(t, fmt.Sprintf("%s: ReadShifts (read %d)", step, i+1), err, n, nShifts)
			// A page past the end still says the total.
			_, n, err = r.ReadPeople(ctx(t), co, directory.Query{Offset: 1000, Limit: 10})
			check(t, fmt.Sprintf("%s: ReadPeople past the end (read %d)", step, i+1), err, n, nPeople)
		}
	}
	want("before any person", 0, 1, 0, 1, 0)

	for i := range 5 {
		people = append(people, newPerson(fmt.Sprintf("P%d", i), fmt.Sprintf("person %d", i), site.ID))
	}
	update(t, w, co, func(tx directory.Tx) error { return tx.PutPeople(true, people) })
	want("5 people inserted", 5, 1, 0, 1, 0)

	dev := newDevice("D", people[0].ID, directory.Email, "Work Email", 1)
	shift := newShift("G|Day", group.ID, "Day")
	update(t, w, co, func(tx directory.Tx) error {
		if err := tx.PutDevices(true, []*directory.Device{dev}); err != nil {
			return err
		}
		return tx.PutShifts(true, []*directory.Shift{shift})
	})
	want("a device and a shift inserted", 5, 1, 1, 1, 1)

	// A change that is rolled back changes no total.
	errStop := errors.New("stop")
	err := w.Update(ctx(t), co, func(tx directory.Tx) error {
		if err := tx.DeletePeople([]uuid.UUID{people[1].ID, people[2].ID}); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Update returning an error = %v, want that error", err)
	}
	want("a deletion rolled back", 5, 1, 1, 1, 1)

	// Another company's change leaves this company's totals.
	update(t, w, other, func(tx directory.Tx) error {
		return tx.PutSites(true, []*directory.Site{newSite("S", "Site")})
	})
	want("another company changed", 5, 1, 1, 1, 1)

	// Deleting a person takes its device along.
	update(t, w, co, func(tx directory.Tx) error { return tx.DeletePeople([]uuid.UUID{people[0].ID, people[1].ID}) })
	want("2 people deleted", 3, 1, 0, 1, 1)

	update(t, w, co, func(tx directory.Tx) error { return tx.DeleteGroups([]uuid.UUID{group.ID}) })
	want("the group deleted", 3, 1, 0, 0, 0)

	// An update that changes nothing countable keeps the totals right.
	people[3].LastName = "Changed"
	update(t, w, co, func(tx directory.Tx) error { return tx.PutPeople(false, []*directory.Person{people[3]}) })
	want("a person changed", 3, 1, 0, 0, 0)
}
