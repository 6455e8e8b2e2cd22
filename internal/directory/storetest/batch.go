package storetest

import (
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var batchTests = []test{
	{"TwentyThousand", testBatch},
}

// testBatch puts, updates and removes 20,000 people (with a device each,
// a supervisor link each and a shift membership each) one call per kind.
func testBatch(t *testing.T, s directory.Store) {
	const n = 20000
	id := newCompany(t, s, "Acme Corp")
	site := newSite("S", "Site")
	boss := newPerson("BOSS", "boss", site.ID)
	g := newGroup("G", "everyone", site.ID)
	sh := newShift("G|All", g.ID, "All")
	people := make([]*directory.Person, n)
	devices := make([]*directory.Device, n)
	members := make([]*directory.Member, n)
	ids := make([]uuid.UUID, n)
	for i := range people {
		p := newPerson(fmt.Sprintf("E%06d", i), fmt.Sprintf("user%06d", i), site.ID)
		p.Supervisors = []uuid.UUID{boss.ID}
		people[i] = p
		ids[i] = p.ID
		devices[i] = newDevice(fmt.Sprintf("E%06d|Work Email", i), p.ID, directory.Email, "Work Email", 1)
		members[i] = member(sh, directory.MemberPerson, p.ID, i+1, true)
	}
	update(t, s, id, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		if err := tx.PutPeople(true, []*directory.Person{boss}); err != nil {
			return err
		}
		if err := tx.PutPeople(true, people); err != nil {
			return fmt.Errorf("insert %d people: %w", n, err)
		}
		if err := tx.PutDevices(true, devices); err != nil {
			return fmt.Errorf("insert %d devices: %w", n, err)
		}
		if err := tx.PutGroups(true, []*directory.Group{g}); err != nil {
			return err
		}
		if err := tx.PutShifts(true, []*directory.Shift{sh}); err != nil {
			return err
		}
		return tx.SetMembers(map[uuid.UUID][]*directory.Member{sh.ID: members})
	})
	check := func(when string, wantPeople, wantDevices, wantMembers int, sample *directory.Person) {
		t.Helper()
		got := snapshot(t, s, id)
		if len(got.People) != wantPeople || len(got.Devices) != wantDevices || len(got.Members) != wantMembers {
			t.Fatalf("%s: %s; want %d people, %d devices, %d members", when, got.counts(), wantPeople, wantDevices, wantMembers)
		}
		if sample == nil {
			return
		}
		for _, p := range got.People {
			if p.ID == sample.ID {
				if diff := gocmp.Diff(sample, p); diff != "" {
					t.Errorf("%s: a person (-want +got):\n%s", when, diff)
				}
				return
			}
		}
		t.Errorf("%s: person %s missing", when, sample.ExternalKey)
	}
	check("after insert", n+1, n, n, people[n/2])

	for _, p := range people {
		p.FirstName = "Updated"
		p.Roles = []string{"Full Access User"}
	}
	update(t, s, id, func(tx directory.Tx) error {
		if err := tx.PutPeople(false, people); err != nil {
			return fmt.Errorf("update %d people: %w", n, err)
		}
		return nil
	})
	check("after update", n+1, n, n, people[n-1])

	update(t, s, id, func(tx directory.Tx) error {
		if err := tx.DeletePeople(ids); err != nil {
			return fmt.Errorf("delete %d people: %w", n, err)
		}
		return nil
	})
	check("after delete", 1, 0, 0, boss)
}
