package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var readTests = []test{
	{"Objects", testReadObjects},
	{"Pages", testReadPages},
	{"ByNameAndID", testReadByNameAndID},
	{"OtherCompany", testReadOtherCompany},
	{"Jobs", testReadJobs},
}

// putWorld stores a fresh world in a new company.
func putWorld(t *testing.T, s directory.Store, name string) (uuid.UUID, *world) {
	t.Helper()
	co := newCompany(t, s, name)
	w := newWorld()
	put(t, s, co, true, w.Snapshot)
	return co, w
}

// sortedBy returns a copy of l sorted by key.
func sortedBy[T any](l []T, key func(T) string) []T {
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}

func testReadObjects(t *testing.T, s directory.Store) {
	co, w := putWorld(t, s, "Acme")
	ctx := t.Context()
	sites, n, err := s.ReadSites(ctx, co, directory.Query{})
	check(t, "ReadSites", err, n, len(w.Sites))
	want := sortedBy(w.Sites, func(o *directory.Site) string { return strings.ToLower(o.Name) })
	if diff := gocmp.Diff(want, sites); diff != "" {
		t.Errorf("ReadSites (-want +got):\n%s", diff)
	}
	people, n, err := s.ReadPeople(ctx, co, directory.Query{})
	check(t, "ReadPeople", err, n, len(w.People))
	wantP := sortedBy(w.People, func(o *directory.Person) string { return strings.ToLower(o.TargetName) })
	if diff := gocmp.Diff(wantP, people); diff != "" {
		t.Errorf("ReadPeople (-want +got):\n%s", diff)
	}
	devices, n, err := s.ReadDevices(ctx, co, directory.Query{Parent: w.person[0].ID})
	check(t, "ReadDevices of person 0", err, n, len(directory.DeviceTypes))
	for i, d := range devices {
		if d.OwnerID != w.person[0].ID || d.Order != i+1 {
			t.Errorf("ReadDevices of person 0 [%d] = owner %s order %d, want person 0's by order", i, d.OwnerID, d.Order)
		}
	}
	all, n, err := s.ReadDevices(ctx, co, directory.Query{})
	check(t, "ReadDevices", err, n, len(w.Devices))
	if !slices.IsSortedFunc(all, func(a, b *directory.Device) int {
		if c := slices.Compare(a.OwnerID[:], b.OwnerID[:]); c != 0 {
			return c
		}
		return a.Order - b.Order
	}) {
		t.Errorf("ReadDevices is not ordered by owner and sequence")
	}
	groups, n, err := s.ReadGroups(ctx, co, directory.Query{})
	check(t, "ReadGroups", err, n, len(w.Groups))
	wantG := sortedBy(w.Groups, func(o *directory.Group) string { return strings.ToLower(o.TargetName) })
	if diff := gocmp.Diff(wantG, groups); diff != "" {
		t.Errorf("ReadGroups (-want +got):\n%s", diff)
	}
	shifts, n, err := s.ReadShifts(ctx, co, directory.Query{Parent: w.group[0].ID})
	check(t, "ReadShifts", err, n, 2)
	if diff := gocmp.Diff([]*directory.Shift{w.day, w.night}, shifts); diff != "" {
		t.Errorf("ReadShifts of group 0 (-want +got):\n%s", diff)
	}
	members, err := s.ReadMembers(ctx, co, []uuid.UUID{w.day.ID, w.always.ID})
	if err != nil {
		t.Fatalf("ReadMembers: %v", err)
	}
	var wantM []*directory.Member
	for _, m := range w.Members {
		if m.ShiftID == w.day.ID || m.ShiftID == w.always.ID {
			wantM = append(wantM, m)
		}
	}
	sortMembers := func(l []*directory.Member) {
		slices.SortStableFunc(l, func(a, b *directory.Member) int {
			if c := slices.Compare(a.ShiftID[:], b.ShiftID[:]); c != 0 {
				return c
			}
			return a.Sequence - b.Sequence
		})
	}
	sortMembers(wantM)
	if diff := gocmp.Diff(wantM, members); diff != "" {
		t.Errorf("ReadMembers (-want +got):\n%s", diff)
	}
	values, err := s.ReadCustomValues(ctx, co, []uuid.UUID{w.person[0].ID, w.person[2].ID})
	if err != nil {
		t.Fatalf("ReadCustomValues: %v", err)
	}
	if len(values) != 2 || values[0].PersonID != w.person[0].ID || values[1].PersonID != w.person[0].ID {
		t.Errorf("ReadCustomValues of people 0 and 2 = %d values, want person 0's two", len(values))
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func check(t *testing.T, what string, err error, total, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if total != want {
		t.Errorf("%s total = %d, want %d", what, total, want)
	}
}

func testReadPages(t *testing.T, s directory.Store) {
	co := newCompany(t, s, "Acme")
	site := newSite("S", "Site")
	var people []*directory.Person
	for i := range 25 {
		people = append(people, newPerson(fmt.Sprintf("P%d", i), fmt.Sprintf("User%02d", 24-i), site.ID))
	}
	put(t, s, co, true, &Snapshot{Sites: []*directory.Site{site}, People: people})
	var names []string
	for off := 0; off < 30; off += 10 {
		page, n, err := s.ReadPeople(t.Context(), co, directory.Query{Offset: off, Limit: 10})
		check(t, fmt.Sprintf("ReadPeople offset %d", off), err, n, 25)
		if want := min(10, max(0, 25-off)); len(page) != want {
			t.Errorf("ReadPeople offset %d: %d people, want %d", off, len(page), want)
		}
		for _, p := range page {
			names = append(names, p.TargetName)
		}
	}
	if len(names) != 25 || !slices.IsSorted(names) {
		t.Errorf("pages of people = %v, want 25 names in order", names)
	}
	page, n, err := s.ReadPeople(t.Context(), co, directory.Query{Offset: 100, Limit: 10})
	check(t, "ReadPeople past the end", err, n, 25)
	if len(page) != 0 {
		t.Errorf("ReadPeople past the end: %d people", len(page))
	}
	page, n, err = s.ReadPeople(t.Context(), co, directory.Query{IDs: []uuid.UUID{people[3].ID, people[7].ID, uuid.New()}})
	check(t, "ReadPeople by IDs", err, n, 2)
	if len(page) != 2 {
		t.Errorf("ReadPeople by IDs: %d people, want 2", len(page))
	}
	page, n, err = s.ReadPeople(t.Context(), co, directory.Query{IDs: []uuid.UUID{}})
	check(t, "ReadPeople by no IDs", err, n, 0)
	if len(page) != 0 {
		t.Errorf("ReadPeople by no IDs: %d people", len(page))
	}
}

func testReadByNameAndID(t *testing.T, s directory.Store) {
	co, w := putWorld(t, s, "Acme")
	ctx := t.Context()
	p, n, err := s.ReadPeople(ctx, co, directory.Query{Name: "USER1"})
	check(t, "ReadPeople by name", err, n, 1)
	if len(p) != 1 || p[0].ID != w.person[1].ID {
		t.Errorf("ReadPeople by name USER1 = %v, want user1", p)
	}
	p, n, err = s.ReadPeople(ctx, co, directory.Query{ID: w.person[2].ID})
	check(t, "ReadPeople by ID", err, n, 1)
	if len(p) != 1 || p[0].TargetName != "user2" {
		t.Errorf("ReadPeople by ID = %v, want user2", p)
	}
	d, n, err := s.ReadDevices(ctx, co, directory.Query{Parent: w.person[1].ID, Name: "device email"})
	check(t, "ReadDevices by owner and name", err, n, 1)
	if len(d) != 1 || d[0].ID != w.device["P1|EMAIL"].ID {
		t.Errorf("ReadDevices by owner and name = %v", d)
	}
	g, n, err := s.ReadGroups(ctx, co, directory.Query{Name: "ONCALL-NET"})
	check(t, "ReadGroups by name", err, n, 1)
	if len(g) != 1 || g[0].ID != w.group[1].ID {
		t.Errorf("ReadGroups by name = %v", g)
	}
	si, n, err := s.ReadSites(ctx, co, directory.Query{Name: "zürich hq"})
	check(t, "ReadSites by name", err, n, 1)
	if len(si) != 1 || si[0].ID != w.site[0].ID {
		t.Errorf("ReadSites by name = %v", si)
	}
	_, n, err = s.ReadPeople(ctx, co, directory.Query{Name: "nobody"})
	check(t, "ReadPeople by an unknown name", err, n, 0)
}

func testReadOtherCompany(t *testing.T, s directory.Store) {
	_, w := putWorld(t, s, "A")
	b, _ := putWorld(t, s, "B")
	ctx := t.Context()
	for what, n := range map[string]func() (int, error){
		"person": func() (int, error) {
			_, n, err := s.ReadPeople(ctx, b, directory.Query{ID: w.person[0].ID})
			return n, err
		},
		"device": func() (int, error) {
			_, n, err := s.ReadDevices(ctx, b, directory.Query{ID: w.device["P0|EMAIL"].ID})
			return n, err
		},
		"group": func() (int, error) {
			_, n, err := s.ReadGroups(ctx, b, directory.Query{ID: w.group[0].ID})
			return n, err
		},
		"site": func() (int, error) {
			_, n, err := s.ReadSites(ctx, b, directory.Query{ID: w.site[0].ID})
			return n, err
		},
		"devices of a person": func() (int, error) {
			_, n, err := s.ReadDevices(ctx, b, directory.Query{Parent: w.person[0].ID})
			return n, err
		},
		"shifts of a group": func() (int, error) {
			_, n, err := s.ReadShifts(ctx, b, directory.Query{Parent: w.group[0].ID})
			return n, err
		},
	} {
		got, err := n()
		check(t, "company B reading company A's "+what, err, got, 0)
	}
	m, err := s.ReadMembers(ctx, b, []uuid.UUID{w.day.ID})
	if err != nil || len(m) != 0 {
		t.Errorf("company B reading company A's members: %d, %v", len(m), err)
	}
	v, err := s.ReadCustomValues(ctx, b, []uuid.UUID{w.person[0].ID})
	if err != nil || len(v) != 0 {
		t.Errorf("company B reading company A's custom values: %d, %v", len(v), err)
	}
	people, n, err := s.ReadPeople(ctx, uuid.New(), directory.Query{})
	check(t, "ReadPeople of a company that does not exist", err, n, 0)
	if len(people) != 0 {
		t.Errorf("ReadPeople of a company that does not exist: %d", len(people))
	}
}

func testReadJobs(t *testing.T, s directory.Store) {
	co := newCompany(t, s, "Acme")
	other := newCompany(t, s, "Other")
	var ids []uuid.UUID
	for i := range 5 {
		j := fullJob(co)
		j.Started = j.Started.Add(time.Duration(i) * time.Minute)
		ids = append([]uuid.UUID{j.ID}, ids...)
		if err := s.SaveJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveJob(t.Context(), fullJob(other)); err != nil {
		t.Fatal(err)
	}
	jobs, n, err := s.ReadJobs(t.Context(), co, 1, 3)
	check(t, "ReadJobs", err, n, 5)
	if len(jobs) != 3 {
		t.Fatalf("ReadJobs offset 1 limit 3: %d jobs", len(jobs))
	}
	for i, j := range jobs {
		if j.ID != ids[i+1] {
			t.Errorf("ReadJobs[%d] = %s, want %s (newest first)", i, j.ID, ids[i+1])
		}
		if j.Details != nil || j.Rows != nil {
			t.Errorf("ReadJobs[%d] has details or rows", i)
		}
	}
}
