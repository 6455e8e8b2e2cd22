package storetest

import (
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var isolationTests = []test{
	{"TwoCompanies", testTwoCompanies},
}

// testTwoCompanies: two companies with the same external keys and names
// never see, change or remove each other's objects.
func testTwoCompanies(t *testing.T, s directory.Store) {
	a, b := newCompany(t, s, "Acme Corp"), newCompany(t, s, "Beta GmbH")
	wa, wb := newWorld(), newWorld()
	put(t, s, a, true, wa.Snapshot)
	put(t, s, b, true, wb.Snapshot)
	wantA, wantB := wa.clone(), wb.clone()
	if diff := gocmp.Diff(wantA, snapshot(t, s, a)); diff != "" {
		t.Errorf("company A (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(wantB, snapshot(t, s, b)); diff != "" {
		t.Errorf("company B (-want +got):\n%s", diff)
	}

	// A removes B's objects by ID: nothing happens.
	update(t, s, a, func(tx directory.Tx) error {
		for _, d := range []deletion{
			{"shifts", []uuid.UUID{wb.day.ID}},
			{"groups", []uuid.UUID{wb.group[0].ID, wb.group[1].ID}},
			{"custom values", []uuid.UUID{wb.customP0.ID}},
			{"devices", []uuid.UUID{wb.device["P1|EMAIL"].ID}},
			{"people", []uuid.UUID{wb.person[0].ID, wb.person[1].ID}},
			{"sites", []uuid.UUID{wb.site[1].ID}},
		} {
			if err := d.store(tx); err != nil {
				return err
			}
		}
		return nil
	})
	// A updates B's objects by ID: ErrNotFound.
	changed := wb.clone()
	change(changed)
	updates := []struct {
		name string
		fn   func(directory.Tx) error
	}{
		{"sites", func(tx directory.Tx) error { return tx.PutSites(false, changed.Sites) }},
		{"people", func(tx directory.Tx) error { return tx.PutPeople(false, changed.People) }},
		{"devices", func(tx directory.Tx) error { return tx.PutDevices(false, changed.Devices) }},
		{"custom values", func(tx directory.Tx) error { return tx.PutCustomValues(false, changed.CustomValues) }},
		{"groups", func(tx directory.Tx) error { return tx.PutGroups(false, changed.Groups) }},
		{"shifts", func(tx directory.Tx) error { return tx.PutShifts(false, changed.Shifts) }},
		{"members", func(tx directory.Tx) error {
			return tx.SetMembers(map[uuid.UUID][]*directory.Member{wb.day.ID: nil})
		}},
	}
	for _, u := range updates {
		if err := s.Update(ctx(t), a, u.fn); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("company A updates company B's %s: %v, want ErrNotFound", u.name, err)
		}
	}
	if diff := gocmp.Diff(wantA, snapshot(t, s, a)); diff != "" {
		t.Errorf("company A (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(wantB, snapshot(t, s, b)); diff != "" {
		t.Errorf("company B (-want +got):\n%s", diff)
	}

	// Jobs stay with their company.
	ja := &directory.Job{ID: uuid.New(), CompanyID: a, Name: "a.zip", Status: directory.JobQueued, Started: usec(2026, 1, 2, 3, 4, 5, 6)}
	jb := &directory.Job{ID: uuid.New(), CompanyID: b, Name: "b.zip", Status: directory.JobQueued, Started: usec(2026, 1, 2, 3, 4, 5, 7)}
	for _, j := range []*directory.Job{ja, jb} {
		if err := s.SaveJob(ctx(t), j); err != nil {
			t.Fatalf("SaveJob: %v", err)
		}
	}
	if _, err := s.Job(ctx(t), a, jb.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Job of company A with company B's job ID = %v, want ErrNotFound", err)
	}
	for _, c := range []struct {
		company uuid.UUID
		job     uuid.UUID
	}{{a, ja.ID}, {b, jb.ID}} {
		jobs, err := s.Jobs(ctx(t), c.company)
		if err != nil {
			t.Fatalf("Jobs: %v", err)
		}
		if len(jobs) != 1 || jobs[0].ID != c.job {
			t.Errorf("Jobs of one company: %d jobs, want only its own", len(jobs))
		}
	}
}
