package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// Run runs the conformance suite. open returns a fresh, empty, migrated
// store and registers its cleanup (closing it) with t.
func Run(t *testing.T, open func(t *testing.T) directory.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Company", companyTests},
		{"Objects", objectTests},
		{"Unique", uniqueTests},
		{"Members", memberTests},
		{"Delete", deleteTests},
		{"Transaction", txTests},
		{"Isolation", isolationTests},
		{"Job", jobTests},
		{"Batch", batchTests},
		{"Queue", queueTests},
		{"Users", userTests},
		{"Read", readTests},
		{"Totals", totalTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.fn(t, open(t))
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s directory.Store)
}

// newCompany creates a company of that name with the default configuration.
func newCompany(t *testing.T, s directory.Store, name string) uuid.UUID {
	t.Helper()
	c := &directory.Company{Name: name, EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := s.CreateCompany(t.Context(), c); err != nil {
		t.Fatalf("CreateCompany %q: %v", name, err)
	}
	if c.ID == uuid.Nil {
		t.Fatalf("CreateCompany %q left the ID nil", name)
	}
	return c.ID
}

// update runs fn in s.Update and fails the test on an error.
func update(t *testing.T, s directory.Store, company uuid.UUID, fn func(directory.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), company, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// Snapshot is a company's whole directory, each list sorted (by ID;
// members by shift, sequence and member) so that two snapshots compare.
type Snapshot struct {
	Sites        []*directory.Site
	People       []*directory.Person
	Devices      []*directory.Device
	CustomValues []*directory.CustomValue
	Groups       []*directory.Group
	Shifts       []*directory.Shift
	Members      []*directory.Member
}

func byID[T any](id func(T) uuid.UUID) func(a, b T) int {
	return func(a, b T) int {
		x, y := id(a), id(b)
		return slices.Compare(x[:], y[:])
	}
}

func nilIfEmpty[T any](l []T) []T {
	if len(l) == 0 {
		return nil
	}
	return l
}

// sort sorts every list, and makes empty lists nil.
func (s *Snapshot) sort() {
	s.Sites = nilIfEmpty(s.Sites)
	s.People = nilIfEmpty(s.People)
	s.Devices = nilIfEmpty(s.Devices)
	s.CustomValues = nilIfEmpty(s.CustomValues)
	s.Groups = nilIfEmpty(s.Groups)
	s.Shifts = nilIfEmpty(s.Shifts)
	s.Members = nilIfEmpty(s.Members)
	slices.SortFunc(s.Sites, byID(func(o *directory.Site) uuid.UUID { return o.ID }))
	slices.SortFunc(s.People, byID(func(o *directory.Person) uuid.UUID { return o.ID }))
	slices.SortFunc(s.Devices, byID(func(o *directory.Device) uuid.UUID { return o.ID }))
	slices.SortFunc(s.CustomValues, byID(func(o *directory.CustomValue) uuid.UUID { return o.ID }))
	slices.SortFunc(s.Groups, byID(func(o *directory.Group) uuid.UUID { return o.ID }))
	slices.SortFunc(s.Shifts, byID(func(o *directory.Shift) uuid.UUID { return o.ID }))
	slices.SortFunc(s.Members, func(a, b *directory.Member) int {
		if c := slices.Compare(a.ShiftID[:], b.ShiftID[:]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Sequence, b.Sequence); c != 0 {
			return c
		}
		return slices.Compare(a.MemberID[:], b.MemberID[:])
	})
}

// read fills a Snapshot from v.
func read(v directory.View) (*Snapshot, error) {
	var s Snapshot
	err := v.Sites(func(o *directory.Site) error { s.Sites = append(s.Sites, o); return nil })
	if err == nil {
		err = v.People(func(o *directory.Person) error { s.People = append(s.People, o); return nil })
	}
	if err == nil {
		err = v.Devices(func(o *directory.Device) error { s.Devices = append(s.Devices, o); return nil })
	}
	if err == nil {
		err = v.CustomValues(func(o *directory.CustomValue) error { s.CustomValues = append(s.CustomValues, o); return nil })
	}
	if err == nil {
		err = v.Groups(func(o *directory.Group) error { s.Groups = append(s.Groups, o); return nil })
	}
	if err == nil {
		err = v.Shifts(func(o *directory.Shift) error { s.Shifts = append(s.Shifts, o); return nil })
	}
	if err == nil {
		err = v.Members(func(o *directory.Member) error { s.Members = append(s.Members, o); return nil })
	}
	if err != nil {
		return nil, err
	}
	s.sort()
	return &s, nil
}

// snapshot reads the company's directory in one View.
func snapshot(t *testing.T, s directory.Store, company uuid.UUID) *Snapshot {
	t.Helper()
	var snap *Snapshot
	err := s.View(t.Context(), company, func(v directory.View) error {
		var err error
		snap, err = read(v)
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return snap
}

// counts is the number of objects of each kind in a snapshot.
func (s *Snapshot) counts() string {
	return fmt.Sprintf("sites %d, people %d, devices %d, custom values %d, groups %d, shifts %d, members %d",
		len(s.Sites), len(s.People), len(s.Devices), len(s.CustomValues), len(s.Groups), len(s.Shifts), len(s.Members))
}

// clone returns a deep copy of a snapshot, so that tests can change the
// copy and keep the objects they put.
func (s *Snapshot) clone() *Snapshot {
	c := &Snapshot{}
	for _, o := range s.Sites {
		x := *o
		c.Sites = append(c.Sites, &x)
	}
	for _, o := range s.People {
		x := *o
		x.Roles = slices.Clone(o.Roles)
		x.Supervisors = slices.Clone(o.Supervisors)
		c.People = append(c.People, &x)
	}
	for _, o := range s.Devices {
		x := *o
		c.Devices = append(c.Devices, &x)
	}
	for _, o := range s.CustomValues {
		x := *o
		c.CustomValues = append(c.CustomValues, &x)
	}
	for _, o := range s.Groups {
		x := *o
		x.Observers = slices.Clone(o.Observers)
		x.Supervisors = slices.Clone(o.Supervisors)
		c.Groups = append(c.Groups, &x)
	}
	for _, o := range s.Shifts {
		x := *o
		x.Escalation = slices.Clone(o.Escalation)
		c.Shifts = append(c.Shifts, &x)
	}
	for _, o := range s.Members {
		x := *o
		c.Members = append(c.Members, &x)
	}
	c.sort()
	return c
}

// put writes every object of s in one Update, inserting (insert) or
// updating, in dependency order, and sets the members of every shift that
// has members in s.
func put(t *testing.T, st directory.Store, company uuid.UUID, insert bool, s *Snapshot) {
	t.Helper()
	update(t, st, company, func(tx directory.Tx) error {
		return putTx(tx, insert, s)
	})
}

func putTx(tx directory.Tx, insert bool, s *Snapshot) error {
	if err := tx.PutSites(insert, s.Sites); err != nil {
		return fmt.Errorf("PutSites: %w", err)
	}
	if err := tx.PutPeople(insert, s.People); err != nil {
		return fmt.Errorf("PutPeople: %w", err)
	}
	if err := tx.PutDevices(insert, s.Devices); err != nil {
		return fmt.Errorf("PutDevices: %w", err)
	}
	if err := tx.PutCustomValues(insert, s.CustomValues); err != nil {
		return fmt.Errorf("PutCustomValues: %w", err)
	}
	if err := tx.PutGroups(insert, s.Groups); err != nil {
		return fmt.Errorf("PutGroups: %w", err)
	}
	if err := tx.PutShifts(insert, s.Shifts); err != nil {
		return fmt.Errorf("PutShifts: %w", err)
	}
	if len(s.Members) > 0 {
		m := map[uuid.UUID][]*directory.Member{}
		for _, o := range s.Members {
			m[o.ShiftID] = append(m[o.ShiftID], o)
		}
		if err := tx.SetMembers(m); err != nil {
			return fmt.Errorf("SetMembers: %w", err)
		}
	}
	return nil
}

// usec is a time with microseconds, the precision every store keeps.
func usec(year int, month time.Month, day, hour, min, sec, micro int) time.Time {
	return time.Date(year, month, day, hour, min, sec, micro*1000, time.UTC)
}

func ctx(t *testing.T) context.Context { return t.Context() }
