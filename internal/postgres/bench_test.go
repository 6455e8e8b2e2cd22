package postgres

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// benchPeople is the size of a large import: the target is one Update of
// that many people within 2× of the sqlite store (docs/benchmarks.md).
// The data are the sqlite benchmark's, so that the figures compare.
const benchPeople = 100_000

// benchIDs makes n distinct IDs quickly: a random prefix and a counter.
func benchIDs(n int) []uuid.UUID {
	base := uuid.New()
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = base
		binary.BigEndian.PutUint64(out[i][8:], uint64(i))
	}
	return out
}

// benchDirectory makes people (each with two roles and a supervisor) at
// one site, and devices spread over them (round-robin over the device
// types).
func benchDirectory(people, devices int) (*directory.Site, []*directory.Person, []*directory.Device) {
	pid, did := benchIDs(people+1), benchIDs(devices)
	site := &directory.Site{Common: directory.Common{ID: pid[people], ExternalKey: "S1", Owned: true},
		Name: "HQ", Status: "ACTIVE", TimeZone: "Europe/Zurich", Language: "de", Country: "CH"}
	ps := make([]*directory.Person, people)
	for i := range ps {
		ps[i] = &directory.Person{
			Common:     directory.Common{ID: pid[i], ExternalKey: fmt.Sprintf("E%07d", i), Owned: true},
			TargetName: fmt.Sprintf("user%07d", i), FirstName: "First", LastName: fmt.Sprintf("Last%d", i),
			Status: "ACTIVE", SiteID: site.ID, WebLogin: fmt.Sprintf("user%07d@example.com", i),
			Roles:       []string{"Standard User", "Person Supervisor"},
			Supervisors: []uuid.UUID{pid[i/10*10]},
			PasswordSet: true,
		}
	}
	ds := make([]*directory.Device, devices)
	for k := range ds {
		i, j := k%people, k/people
		p := ps[i]
		ds[k] = &directory.Device{
			Common:  directory.Common{ID: did[k], ExternalKey: p.ExternalKey + fmt.Sprintf("|Device %d", j), Owned: true},
			OwnerID: p.ID, Type: directory.DeviceTypes[k%len(directory.DeviceTypes)], Name: fmt.Sprintf("Device %d", j),
			Status: "ACTIVE", Default: j == 0, Order: j + 1, Address: p.WebLogin, Country: "CH", AreaCode: "44",
			Phone: fmt.Sprintf("555%07d", i),
		}
	}
	return site, ps, ds
}

// benchInsert puts site, people and devices in one Update of a new company.
func benchInsert(b *testing.B, s *Store, name string, site *directory.Site, people []*directory.Person, devices []*directory.Device) uuid.UUID {
	c := &directory.Company{Name: name}
	if err := s.CreateCompany(b.Context(), c); err != nil {
		b.Fatal(err)
	}
	err := s.Update(b.Context(), c.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{site}); err != nil {
			return err
		}
		if err := tx.PutPeople(true, people); err != nil {
			return err
		}
		return tx.PutDevices(true, devices)
	})
	if err != nil {
		b.Fatal(err)
	}
	return c.ID
}

// BenchmarkInsertPeople inserts 100,000 people (rows: people, their
// supervisor links and devices) in one Update, into a new company each
// time; the database grows from one round to the next. As in the sqlite
// benchmark, making the objects is part of each round.
func BenchmarkInsertPeople(b *testing.B) {
	for _, bc := range []struct {
		name    string
		devices int
	}{
		{"people=100000", 0},
		{"people=100000,devices=250000", 250_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b)
			rows, round := 0, 0
			for b.Loop() {
				round++
				site, people, devices := benchDirectory(benchPeople, bc.devices)
				benchInsert(b, s, fmt.Sprintf("Company %d", round), site, people, devices)
				rows += 1 + 2*len(people) + len(devices)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkUpdatePeople updates 100,000 people (and replaces their
// supervisor links) in one Update.
func BenchmarkUpdatePeople(b *testing.B) {
	s := open(b)
	site, people, _ := benchDirectory(benchPeople, 0)
	company := benchInsert(b, s, "Bench", site, people, nil)
	i := 0
	for b.Loop() {
		i++
		for _, p := range people {
			p.FirstName = fmt.Sprintf("First %d", i)
		}
		if err := s.Update(b.Context(), company, func(tx directory.Tx) error { return tx.PutPeople(false, people) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchPeople)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkViewPeople reads 100,000 people with their roles.
func BenchmarkViewPeople(b *testing.B) {
	s := open(b)
	site, people, _ := benchDirectory(benchPeople, 0)
	company := benchInsert(b, s, "Bench", site, people, nil)
	for b.Loop() {
		n := 0
		err := s.View(b.Context(), company, func(v directory.View) error {
			return v.People(func(*directory.Person) error { n++; return nil })
		})
		if err != nil || n != benchPeople {
			b.Fatalf("View: %d people, %v", n, err)
		}
	}
	b.ReportMetric(float64(benchPeople)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
