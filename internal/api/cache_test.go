package api_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/api"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/sqlite"
)

// Two stores on one database: what two epicd processes share.
func twoSQLite(t testing.TB) (directory.Store, directory.Store) {
	path := filepath.Join(t.TempDir(), "epicd.db")
	var out [2]directory.Store
	for i := range out {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out[i] = st
	}
	return out[0], out[1]
}

func twoPostgres(t testing.TB) (directory.Store, directory.Store) {
	dsn := pgtest.FreshDSN(t)
	var out [2]directory.Store
	for i := range out {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out[i] = st
	}
	return out[0], out[1]
}

func TestFreshAfterWriteSQLite(t *testing.T)   { freshAfterWrite(t, twoSQLite) }
func TestFreshAfterWritePostgres(t *testing.T) { freshAfterWrite(t, twoPostgres) }

// freshAfterWrite: answers the server kept (totals, pages) are not served
// after the directory changed, whether this process or another one
// changed it.
func freshAfterWrite(t *testing.T, open func(testing.TB) (directory.Store, directory.Store)) {
	st, other := open(t)
	f := seed(t, st)
	srv := httptest.NewServer(api.New(api.Config{Store: st}))
	t.Cleanup(srv.Close)
	reader := client{t: t, url: srv.URL, login: "reader", pass: password}
	ctx := context.Background()

	want := func(step string, people, sites int, lastName string) {
		t.Helper()
		for i := range 2 { // the second answer may come from the cache
			for _, path := range []string{"/api/xm/1/people?limit=10", "/api/xm/1/people?offset=20&limit=10"} {
				r := reader.get(path)
				if r.code != 200 {
					t.Fatalf("%s: GET %s: %d %s", step, path, r.code, r.body)
				}
				if n := r.json(t)["total"]; n != float64(people) {
					t.Errorf("%s: GET %s (read %d): total %v, want %d", step, path, i+1, n, people)
				}
			}
			if n := reader.get("/api/xm/1/sites").json(t)["total"]; n != float64(sites) {
				t.Errorf("%s: GET sites (read %d): total %v, want %d", step, i+1, n, sites)
			}
			p := reader.get("/api/xm/1/people/" + f.people[2].ID.String()).json(t)
			if p["lastName"] != lastName {
				t.Errorf("%s: GET people/{id} (read %d): lastName %v, want %q", step, i+1, p["lastName"], lastName)
			}
		}
	}
	want("seeded", 25, 1, "Last02")

	// This process writes (the engine's Update).
	p := &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: "new one", Status: "ACTIVE"}
	if err := st.Update(ctx, f.acme.ID, func(tx directory.Tx) error { return tx.PutPeople(true, []*directory.Person{p}) }); err != nil {
		t.Fatal(err)
	}
	want("a person added here", 26, 1, "Last02")

	// Another process writes: a person changed, a site and a person added.
	f.people[2].LastName = "Changed"
	site := &directory.Site{Common: directory.Common{ID: uuid.New()}, Name: "Branch", Status: "ACTIVE"}
	p2 := &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: "another one", Status: "ACTIVE"}
	err := other.Update(ctx, f.acme.ID, func(tx directory.Tx) error {
		if err := tx.PutPeople(false, []*directory.Person{f.people[2]}); err != nil {
			return err
		}
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		return tx.PutPeople(true, []*directory.Person{p2})
	})
	if err != nil {
		t.Fatal(err)
	}
	want("changed by another process", 27, 2, "Changed")

	// Another company's change leaves Acme's answers right.
	if err := other.Update(ctx, f.beta.ID, func(tx directory.Tx) error {
		return tx.DeletePeople(nil)
	}); err != nil {
		t.Fatal(err)
	}
	want("another company changed", 27, 2, "Changed")
}
