package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/directory/storetest"
	"github.com/epicsync/epic/internal/postgres/pgtest"
)

func dsn(t testing.TB) string      { return pgtest.DSN(t) }
func freshDSN(t testing.TB) string { return pgtest.FreshDSN(t) }

// open opens a Store on a fresh database, closed when the test ends.
func open(t testing.TB) *Store {
	t.Helper()
	d := freshDSN(t)
	s, err := Open(context.Background(), d)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	dsn(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) directory.Store { return open(t) })
}

// TestOpenConcurrently: instances starting together on one new database
// migrate it once, and opening a current database again changes nothing.
func TestOpenConcurrently(t *testing.T) {
	d := freshDSN(t)
	t.Parallel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(t.Context(), d)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
	}
	s, err := Open(t.Context(), d)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s.Close()
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	if n != len(files) {
		t.Errorf("goose_db_version has %d applied migrations, want %d (each once)", n, len(files))
	}
}

// TestCompanyLock: two stores on one database (two epicd instances) never
// run Updates of one company at once, and do run those of two companies
// at once.
func TestCompanyLock(t *testing.T) {
	d := freshDSN(t)
	t.Parallel()
	a, err := Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	acme := &directory.Company{Name: "Acme"}
	beta := &directory.Company{Name: "Beta"}
	for _, c := range []*directory.Company{acme, beta} {
		if err := a.CreateCompany(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}

	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- a.Update(t.Context(), acme.ID, func(directory.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	// Another company: not blocked.
	done := make(chan error, 1)
	go func() { done <- b.Update(t.Context(), beta.ID, func(directory.Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update of another company: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Update of another company waits for the lock of the first")
	}

	// The same company: waits until the first commits.
	var mu sync.Mutex
	released := false
	go func() {
		done <- b.Update(t.Context(), acme.ID, func(directory.Tx) error {
			mu.Lock()
			defer mu.Unlock()
			if !released {
				return errors.New("second Update of the company ran while the first held it")
			}
			return nil
		})
	}()
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	released = true
	mu.Unlock()
	close(release)
	if err := <-held; err != nil {
		t.Fatalf("first Update: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLockKey(t *testing.T) {
	id := uuid.MustParse("00000001-0000-0002-0000-000300000004")
	if got := lockKey(id); got != 1^2^3^4 {
		t.Errorf("lockKey = %d, want %d", got, 1^2^3^4)
	}
}

// TestFailedWriteFailsUpdate: a write that fails aborts the transaction;
// when fn goes on and returns nil, Update still fails with the write's
// error and commits nothing.
func TestFailedWriteFailsUpdate(t *testing.T) {
	s := open(t)
	t.Parallel()
	c := &directory.Company{Name: "Acme"}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	site := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "HQ"}
	dup := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "hq"}
	other := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "Branch"}
	err := s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		if err := tx.PutSites(true, []*directory.Site{dup}); !errors.Is(err, directory.ErrExists) {
			t.Errorf("PutSites of a taken name = %v, want ErrExists", err)
		}
		if err := tx.PutSites(true, []*directory.Site{other}); err == nil {
			t.Error("PutSites after a failed write succeeded")
		}
		return nil
	})
	if !errors.Is(err, directory.ErrExists) {
		t.Fatalf("Update = %v, want the failed write's ErrExists", err)
	}
	n := 0
	err = s.View(t.Context(), c.ID, func(v directory.View) error {
		return v.Sites(func(*directory.Site) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d sites committed, want none", n)
	}
}

// TestIterateAndWrite: a callback of an iteration may read another kind,
// start a nested iteration and write, in the same transaction.
func TestIterateAndWrite(t *testing.T) {
	s := open(t)
	t.Parallel()
	c := &directory.Company{Name: "Acme"}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	const n = fetchSize*2 + 17 // several fetches
	people := make([]*directory.Person, n)
	for i := range people {
		people[i] = &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: fmt.Sprintf("user%d", i)}
	}
	site := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "HQ"}
	err := s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		return tx.PutPeople(true, people)
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		return tx.People(func(p *directory.Person) error {
			seen++
			if seen%500 == 1 {
				sites := 0
				if err := tx.Sites(func(*directory.Site) error { sites++; return nil }); err != nil {
					return err
				}
				if sites != 1 {
					return fmt.Errorf("nested Sites: %d sites, want 1", sites)
				}
			}
			p.FirstName = "Seen"
			return tx.PutPeople(false, []*directory.Person{p})
		})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if seen != n {
		t.Errorf("People called fn %d times, want %d", seen, n)
	}
	err = s.View(t.Context(), c.ID, func(v directory.View) error {
		return v.People(func(p *directory.Person) error {
			if p.FirstName != "Seen" {
				return fmt.Errorf("%s: first name %q, want Seen", p.TargetName, p.FirstName)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLargeUpdatesTwice: two large updates of the same people in one
// Update (the temporary tables are reused) apply in order, supervisor
// links that stay, change, appear and go included.
func TestLargeUpdatesTwice(t *testing.T) {
	s := open(t)
	t.Parallel()
	c := &directory.Company{Name: "Acme"}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	const n = 3 * smallBatch
	people := make([]*directory.Person, n)
	for i := range people {
		people[i] = &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: fmt.Sprintf("user%d", i)}
	}
	for i, p := range people {
		if i%3 != 0 {
			p.Supervisors = []uuid.UUID{people[0].ID, people[3].ID}
		}
	}
	err := s.Update(t.Context(), c.ID, func(tx directory.Tx) error { return tx.PutPeople(true, people) })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		for round := range 2 {
			for i, p := range people {
				p.FirstName = fmt.Sprintf("round %d", round)
				switch i % 4 {
				case 0: // links appear or stay
					p.Supervisors = []uuid.UUID{people[0].ID, people[3].ID}
				case 1: // links go
					p.Supervisors = nil
				case 2: // order changes
					p.Supervisors = []uuid.UUID{people[3].ID, people[round].ID}
				}
			}
			if err := tx.PutPeople(false, people); err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := map[uuid.UUID]*directory.Person{}
	for _, p := range people {
		want[p.ID] = p
	}
	got := 0
	err = s.View(t.Context(), c.ID, func(v directory.View) error {
		return v.People(func(p *directory.Person) error {
			got++
			w := want[p.ID]
			if p.FirstName != w.FirstName || fmt.Sprint(p.Supervisors) != fmt.Sprint(w.Supervisors) {
				return fmt.Errorf("%s: %q %v, want %q %v", p.TargetName, p.FirstName, p.Supervisors, w.FirstName, w.Supervisors)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("%d people, want %d", got, n)
	}
}

// TestDeleteSiteInUse: a site that a person or a group uses is not
// deleted (the sqlite store's foreign key refuses it too).
func TestDeleteSiteInUse(t *testing.T) {
	s := open(t)
	t.Parallel()
	c := &directory.Company{Name: "Acme"}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	a := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "A"}
	b := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "B"}
	free := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "Free"}
	p := &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: "p", SiteID: a.ID}
	g := &directory.Group{Common: directory.Common{ID: uuid.New()}, TargetName: "g", SiteID: b.ID}
	err := s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{a, b, free}); err != nil {
			return err
		}
		if err := tx.PutPeople(true, []*directory.Person{p}); err != nil {
			return err
		}
		return tx.PutGroups(true, []*directory.Group{g})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, site := range []*directory.Site{a, b} {
		err := s.Update(t.Context(), c.ID, func(tx directory.Tx) error {
			return tx.DeleteSites([]uuid.UUID{free.ID, site.ID})
		})
		if !errors.Is(err, errSiteInUse) {
			t.Errorf("DeleteSites of %s in use = %v, want errSiteInUse", site.Name, err)
		}
	}
	err = s.Update(t.Context(), c.ID, func(tx directory.Tx) error { return tx.DeleteSites([]uuid.UUID{free.ID}) })
	if err != nil {
		t.Errorf("DeleteSites of a free site: %v", err)
	}
	n := 0
	err = s.View(t.Context(), c.ID, func(v directory.View) error {
		return v.Sites(func(*directory.Site) error { n++; return nil })
	})
	if err != nil || n != 2 {
		t.Errorf("View: %d sites, %v; want 2", n, err)
	}
}
