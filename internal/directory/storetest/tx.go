package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var txTests = []test{
	{"ErrorRollsBack", testErrorRollsBack},
	{"PanicRollsBack", testPanicRollsBack},
	{"ReadYourWrites", testReadYourWrites},
	{"ViewSnapshot", testViewSnapshot},
	{"CallbackError", testCallbackError},
	{"ConcurrentUpdates", testConcurrentUpdates},
}

var errTest = errors.New("storetest: fn failed")

// writeMuch does a write of every kind to a world's company.
func writeMuch(tx directory.Tx, w *world, company uuid.UUID) error {
	site := newSite("SN", "New Site")
	p := newPerson("PN", "new-user", site.ID)
	p.Supervisors = []uuid.UUID{w.person[1].ID}
	changed := *w.person[1]
	changed.FirstName = "Changed"
	for _, err := range []error{
		tx.PutSites(true, []*directory.Site{site}),
		tx.PutPeople(true, []*directory.Person{p}),
		tx.PutPeople(false, []*directory.Person{&changed}),
		tx.PutDevices(true, []*directory.Device{newDevice("DN", p.ID, directory.Email, "Work Email", 1)}),
		tx.DeletePeople([]uuid.UUID{w.person[0].ID}),
		tx.DeleteGroups([]uuid.UUID{w.group[1].ID}),
		tx.SetMembers(map[uuid.UUID][]*directory.Member{w.day.ID: {member(w.day, directory.MemberPerson, p.ID, 1, true)}}),
		tx.SaveJob(&directory.Job{ID: uuid.New(), CompanyID: company, Name: "rolled-back.zip", Status: directory.JobCompleted, Started: time.Now()}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func testErrorRollsBack(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()

	err := s.Update(ctx(t), id, func(tx directory.Tx) error {
		if err := writeMuch(tx, w, id); err != nil {
			return fmt.Errorf("writes before the failure: %v", err)
		}
		return fmt.Errorf("late: %w", errTest)
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory after a failed Update (-want +got):\n%s", diff)
	}
	jobs, err := s.Jobs(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 0 {
		t.Errorf("a failed Update saved %d jobs", len(jobs))
	}
}

func testPanicRollsBack(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()

	func() {
		defer func() {
			if r := recover(); r != "storetest: boom" {
				t.Errorf("recovered %v, want Update to panic again with fn's value", r)
			}
		}()
		_ = s.Update(ctx(t), id, func(tx directory.Tx) error {
			if err := writeMuch(tx, w, id); err != nil {
				t.Errorf("writes before the panic: %v", err)
			}
			panic("storetest: boom")
		})
	}()
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory after a panic (-want +got):\n%s", diff)
	}
	// The store is still usable: the next Update commits.
	site := newSite("S9", "After the panic")
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx(t), id, func(tx directory.Tx) error { return tx.PutSites(true, []*directory.Site{site}) })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update after a panic: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Update after a panic still waits after 30 s: the panic left the store locked")
	}
	want.Sites = append(want.Sites, site)
	want.sort()
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func testReadYourWrites(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()

	update(t, s, id, func(tx directory.Tx) error {
		if err := writeMuch(tx, w, id); err != nil {
			return err
		}
		got, err := read(tx)
		if err != nil {
			return err
		}
		// What the reference says writeMuch did.
		for _, o := range got.Sites {
			if o.ExternalKey == "SN" {
				want.Sites = append(want.Sites, o)
			}
		}
		var newP *directory.Person
		for _, o := range got.People {
			if o.ExternalKey == "PN" {
				newP = o
				want.People = append(want.People, o)
			}
		}
		for _, o := range got.Devices {
			if o.ExternalKey == "DN" {
				want.Devices = append(want.Devices, o)
			}
		}
		if newP == nil || len(want.Sites) != 3 || len(want.Devices) != len(w.Devices)+1 {
			return fmt.Errorf("the transaction does not see its inserts: %s", got.counts())
		}
		for _, o := range want.People {
			if o.ID == w.person[1].ID {
				o.FirstName = "Changed"
			}
		}
		refDeletePeople(want, []uuid.UUID{w.person[0].ID})
		refDeleteGroups(want, []uuid.UUID{w.group[1].ID})
		dropMembers(want, func(m *directory.Member) bool { return m.ShiftID == w.day.ID })
		want.Members = append(want.Members, member(w.day, directory.MemberPerson, newP.ID, 1, true))
		want.sort()
		if diff := gocmp.Diff(want, got); diff != "" {
			return fmt.Errorf("the transaction's view (-want +got):\n%s", diff)
		}
		return nil
	})
	if diff := gocmp.Diff(want, snapshot(t, s, id)); diff != "" {
		t.Errorf("directory after commit (-want +got):\n%s", diff)
	}
}

// testViewSnapshot: an Update committed while a View is open (after its
// first read) is invisible to that View.
func testViewSnapshot(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)
	want := w.clone()

	err := s.View(ctx(t), id, func(v directory.View) error {
		first, err := read(v)
		if err != nil {
			return err
		}
		if diff := gocmp.Diff(want, first); diff != "" {
			return fmt.Errorf("first read (-want +got):\n%s", diff)
		}
		done := make(chan error, 1)
		go func() {
			done <- s.Update(ctx(t), id, func(tx directory.Tx) error { return writeMuch(tx, w, id) })
		}()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("Update during a View: %w", err)
			}
		case <-time.After(30 * time.Second):
			return errors.New("Update waits for an open View (30 s)")
		}
		again, err := read(v)
		if err != nil {
			return err
		}
		if diff := gocmp.Diff(want, again); diff != "" {
			return fmt.Errorf("the View sees an Update committed after its first read (-before +after):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	after := snapshot(t, s, id)
	if gocmp.Equal(want, after) {
		t.Error("a new View does not see the committed Update")
	}
}

func testCallbackError(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	put(t, s, id, true, w.Snapshot)

	iterators := []struct {
		name string
		fn   func(v directory.View, cb func() error) error
	}{
		{"Sites", func(v directory.View, cb func() error) error {
			return v.Sites(func(*directory.Site) error { return cb() })
		}},
		{"People", func(v directory.View, cb func() error) error {
			return v.People(func(*directory.Person) error { return cb() })
		}},
		{"Devices", func(v directory.View, cb func() error) error {
			return v.Devices(func(*directory.Device) error { return cb() })
		}},
		{"CustomValues", func(v directory.View, cb func() error) error {
			return v.CustomValues(func(*directory.CustomValue) error { return cb() })
		}},
		{"Groups", func(v directory.View, cb func() error) error {
			return v.Groups(func(*directory.Group) error { return cb() })
		}},
		{"Shifts", func(v directory.View, cb func() error) error {
			return v.Shifts(func(*directory.Shift) error { return cb() })
		}},
		{"Members", func(v directory.View, cb func() error) error {
			return v.Members(func(*directory.Member) error { return cb() })
		}},
	}
	for _, it := range iterators {
		calls := 0
		cb := func() error { calls++; return errTest }
		err := s.View(ctx(t), id, func(v directory.View) error { return it.fn(v, cb) })
		if !errors.Is(err, errTest) {
			t.Errorf("View: %s with a failing callback = %v, want the callback's error", it.name, err)
		}
		if calls != 1 {
			t.Errorf("View: %s called the failing callback %d times, want 1", it.name, calls)
		}
		calls = 0
		err = s.Update(ctx(t), id, func(tx directory.Tx) error { return it.fn(tx, cb) })
		if !errors.Is(err, errTest) {
			t.Errorf("Tx: %s with a failing callback = %v, want the callback's error", it.name, err)
		}
		if calls != 1 {
			t.Errorf("Tx: %s called the failing callback %d times, want 1", it.name, calls)
		}
	}
	if diff := gocmp.Diff(w.clone(), snapshot(t, s, id)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

// testConcurrentUpdates runs Updates of two companies, and Views, at once.
func testConcurrentUpdates(t *testing.T, s directory.Store) {
	const rounds = 10
	ids := []uuid.UUID{newCompany(t, s, "Acme Corp"), newCompany(t, s, "Beta GmbH")}
	worlds := []*world{newWorld(), newWorld()}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, id := range ids {
		w := worlds[i]
		wg.Go(func() {
			if err := s.Update(ctx(t), id, func(tx directory.Tx) error { return putTx(tx, true, w.Snapshot) }); err != nil {
				errs <- fmt.Errorf("company %d: insert: %w", i, err)
				return
			}
			for r := range rounds {
				err := s.Update(ctx(t), id, func(tx directory.Tx) error {
					var ps []*directory.Person
					for j := range 50 {
						ps = append(ps, newPerson(fmt.Sprintf("R%d-%d", r, j), fmt.Sprintf("round%d-%d", r, j), w.site[0].ID))
					}
					return tx.PutPeople(true, ps)
				})
				if err != nil {
					errs <- fmt.Errorf("company %d round %d: %w", i, r, err)
					return
				}
			}
		})
		wg.Go(func() {
			for range rounds {
				err := s.View(ctx(t), id, func(v directory.View) error {
					_, err := read(v)
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("company %d: View: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, id := range ids {
		got := snapshot(t, s, id)
		if n := len(worlds[i].People) + rounds*50; len(got.People) != n {
			t.Errorf("company %d has %d people, want %d", i, len(got.People), n)
		}
	}
}
