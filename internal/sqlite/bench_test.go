package sqlite

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// ids makes n distinct IDs quickly: a random prefix and a counter.
func ids(n int) []uuid.UUID {
	base := uuid.New()
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = base
		binary.BigEndian.PutUint64(out[i][8:], uint64(i))
	}
	return out
}

// directoryOf makes a site and people at it, each with two roles and a
// supervisor (the first of every ten people).
func directoryOf(people int) (*directory.Site, []*directory.Person) {
	pid := ids(people + 1)
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
	return site, ps
}

// BenchmarkInsertPeople inserts 100,000 people, and then also 250,000
// devices, in one Update into a new company each round (the database grows
// from one round to the next). rows/s counts every row written: the site,
// the people, their supervisor links and the devices.
func BenchmarkInsertPeople(b *testing.B) {
	for _, bc := range []struct {
		name            string
		people, devices int
	}{
		{"people=100000", 100000, 0},
		{"people=100000,devices=250000", 100000, 250000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "bench.db"))
			rows := 0
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				c := &directory.Company{Name: fmt.Sprintf("Company %d", round)}
				if err := s.CreateCompany(b.Context(), c); err != nil {
					b.Fatal(err)
				}
				site, people := directoryOf(bc.people)
				devices := devicesOf(people, bc.devices)
				b.StartTimer()
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
				rows += 1 + 2*len(people) + len(devices)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// devicesOf makes n devices spread over people.
func devicesOf(people []*directory.Person, n int) []*directory.Device {
	did := ids(n)
	ds := make([]*directory.Device, n)
	for k := range ds {
		i, j := k%len(people), k/len(people)
		p := people[i]
		ds[k] = &directory.Device{
			Common:  directory.Common{ID: did[k], ExternalKey: p.ExternalKey + fmt.Sprintf("|Device %d", j), Owned: true},
			OwnerID: p.ID, Type: directory.DeviceTypes[k%len(directory.DeviceTypes)], Name: fmt.Sprintf("Device %d", j),
			Status: "ACTIVE", Default: j == 0, Order: j + 1, Address: p.WebLogin, Country: "CH", AreaCode: "44",
			Phone: fmt.Sprintf("555%07d", i),
		}
	}
	return ds
}
