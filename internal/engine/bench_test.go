package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/sqlite"
)

// benchUsers is the size of the benchmark archives: EPIC_BENCH_USERS, or
// 10,000.
func benchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("EPIC_BENCH_USERS")); err == nil {
		return n
	}
	return 10_000
}

var benchStores = []struct {
	name string
	open func(b *testing.B) directory.Store
}{
	{"sqlite", func(b *testing.B) directory.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "epicd.db"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}},
	{"postgres", func(b *testing.B) directory.Store {
		st, err := postgres.Open(context.Background(), pgtest.FreshDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}},
}

// writeArchive writes a generated mirror archive of n people; change, add
// and drop make "the next night's" variant (percent of people).
func writeArchive(b *testing.B, path string, n int, change, add, drop float64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	m := archive.DefaultManifest()
	m.Mirror = true
	opt := generate.Options{Users: n, Seed: 1, Manifest: m, ChangePercent: change, AddPercent: add, DropPercent: drop}
	if _, err := generate.Write(w, opt); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApply measures, per store, on a generated archive of
// EPIC_BENCH_USERS people: the first apply into an empty company; the same
// archive again (nothing changes); the next night's archive (1 % of people
// changed, 1 % added, 1 % missing, mirror); and the floor: the same objects
// inserted with no logic at all, in one transaction, through the store's
// bulk writes.
func BenchmarkApply(b *testing.B) {
	n := benchUsers()
	base := filepath.Join(b.TempDir(), "base.zip")
	next := filepath.Join(b.TempDir(), "next.zip")
	writeArchive(b, base, n, 0, 0, 0)
	writeArchive(b, next, n, 1, 1, 1)
	ctx := context.Background()
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			st := s.open(b)
			defer st.Close()
			company := 0
			fresh := func() *directory.Company {
				company++
				co := &directory.Company{Name: "Acme" + strconv.Itoa(company), EpicEnabled: true, Config: directory.DefaultConfig()}
				if err := st.CreateCompany(ctx, co); err != nil {
					b.Fatal(err)
				}
				return co
			}
			eng := &engine.Engine{Store: st, Limits: archive.DefaultLimits()}
			apply := func(b *testing.B, co *directory.Company, path string) {
				j, err := eng.Apply(ctx, co, path, engine.Job{})
				if err != nil || j.Status != directory.JobCompleted {
					b.Fatalf("apply: %v %+v", err, j.Summary)
				}
			}
			// cpu reports this process's CPU seconds an operation
			// (cpu-s/op) beside the wall time: other work on the machine
			// stretches the one, not the other. PostgreSQL's own CPU is
			// in its server processes, not here.
			cpu := func(b *testing.B) func() {
				start := cpuSeconds()
				return func() { b.ReportMetric((cpuSeconds()-start)/float64(b.N), "cpu-s/op") }
			}
			var last *directory.Company
			b.Run("first", func(b *testing.B) {
				defer cpu(b)()
				for b.Loop() {
					b.StopTimer()
					last = fresh()
					b.StartTimer()
					stop := profile(b, s.name+"-first")
					apply(b, last, base)
					stop()
				}
			})
			b.Run("again", func(b *testing.B) {
				defer cpu(b)()
				for b.Loop() {
					stop := profile(b, s.name+"-again")
					apply(b, last, base)
					stop()
				}
			})
			b.Run("next-night", func(b *testing.B) {
				var used float64
				defer func() { b.ReportMetric(used/float64(b.N), "cpu-s/op") }()
				for b.Loop() {
					b.StopTimer()
					co := fresh()
					apply(b, co, base)
					b.StartTimer()
					start := cpuSeconds()
					apply(b, co, next)
					used += cpuSeconds() - start
				}
			})
			b.Run("floor", func(b *testing.B) {
				objs := readAll(b, st, last)
				var used float64
				defer func() { b.ReportMetric(used/float64(b.N), "cpu-s/op") }()
				for b.Loop() {
					b.StopTimer()
					co := fresh()
					fresh := objs.withNewIDs()
					b.StartTimer()
					start := cpuSeconds()
					if err := st.Update(ctx, co.ID, fresh.insert); err != nil {
						b.Fatal(err)
					}
					used += cpuSeconds() - start
				}
			})
		})
	}
}

// objects is a whole directory, to insert with no logic.
type objects struct {
	sites   []*directory.Site
	people  []*directory.Person
	devices []*directory.Device
	customs []*directory.CustomValue
	groups  []*directory.Group
	shifts  []*directory.Shift
	members map[[16]byte][]*directory.Member
}

func readAll(b *testing.B, st directory.Store, co *directory.Company) *objects {
	o := &objects{members: map[[16]byte][]*directory.Member{}}
	err := st.View(context.Background(), co.ID, func(v directory.View) error {
		v.Sites(func(x *directory.Site) error { o.sites = append(o.sites, x); return nil })
		v.People(func(x *directory.Person) error { o.people = append(o.people, x); return nil })
		v.Devices(func(x *directory.Device) error { o.devices = append(o.devices, x); return nil })
		v.CustomValues(func(x *directory.CustomValue) error { o.customs = append(o.customs, x); return nil })
		v.Groups(func(x *directory.Group) error { o.groups = append(o.groups, x); return nil })
		v.Shifts(func(x *directory.Shift) error { o.shifts = append(o.shifts, x); return nil })
		return v.Members(func(x *directory.Member) error { o.members[x.ShiftID] = append(o.members[x.ShiftID], x); return nil })
	})
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// withNewIDs returns the same objects under new IDs (the unique indexes
// are per company, the IDs are not).
func (o *objects) withNewIDs() *objects {
	ids := map[[16]byte][16]byte{}
	id := func(old [16]byte) [16]byte {
		if old == [16]byte{} {
			return old
		}
		if n, ok := ids[old]; ok {
			return n
		}
		n := engineNewID()
		ids[old] = n
		return n
	}
	c := &objects{members: map[[16]byte][]*directory.Member{}}
	for _, x := range o.sites {
		y := *x
		y.ID = id(x.ID)
		c.sites = append(c.sites, &y)
	}
	for _, x := range o.people {
		y := *x
		y.ID, y.SiteID = id(x.ID), id(x.SiteID)
		y.Supervisors = nil
		for _, s := range x.Supervisors {
			y.Supervisors = append(y.Supervisors, id(s))
		}
		c.people = append(c.people, &y)
	}
	for _, x := range o.devices {
		y := *x
		y.ID, y.OwnerID = id(x.ID), id(x.OwnerID)
		c.devices = append(c.devices, &y)
	}
	for _, x := range o.customs {
		y := *x
		y.ID, y.PersonID = id(x.ID), id(x.PersonID)
		c.customs = append(c.customs, &y)
	}
	for _, x := range o.groups {
		y := *x
		y.ID, y.SiteID = id(x.ID), id(x.SiteID)
		y.Supervisors = nil
		for _, s := range x.Supervisors {
			y.Supervisors = append(y.Supervisors, id(s))
		}
		c.groups = append(c.groups, &y)
	}
	for _, x := range o.shifts {
		y := *x
		y.ID, y.GroupID = id(x.ID), id(x.GroupID)
		c.shifts = append(c.shifts, &y)
	}
	for shift, ms := range o.members {
		for _, m := range ms {
			y := *m
			y.ShiftID, y.MemberID = id(m.ShiftID), id(m.MemberID)
			c.members[id(shift)] = append(c.members[id(shift)], &y)
		}
	}
	return c
}

func (o *objects) insert(tx directory.Tx) error {
	members := map[[16]byte][]*directory.Member{}
	for k, v := range o.members {
		members[k] = v
	}
	for _, err := range []error{
		tx.PutSites(true, o.sites), tx.PutPeople(true, o.people), tx.PutDevices(true, o.devices),
		tx.PutCustomValues(true, o.customs), tx.PutGroups(true, o.groups), tx.PutShifts(true, o.shifts),
	} {
		if err != nil {
			return err
		}
	}
	return tx.SetMembers(toUUIDMap(members))
}

func engineNewID() [16]byte { return engine.NewIDForTest() }

func toUUIDMap(m map[[16]byte][]*directory.Member) map[uuid.UUID][]*directory.Member {
	out := make(map[uuid.UUID][]*directory.Member, len(m))
	for k, v := range m {
		out[uuid.UUID(k)] = v
	}
	return out
}

// cpuSeconds is the CPU time (user and system) this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// profile writes a CPU profile of what runs until the returned function is
// called, to EPIC_BENCH_PROFILE/name.cpu, with a heap profile at the end
// (name.heap); nothing without EPIC_BENCH_PROFILE. go test -cpuprofile
// would mix the phases and their setup.
func profile(b *testing.B, name string) (stop func()) {
	dir := os.Getenv("EPIC_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name+".cpu"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		h, err := os.Create(filepath.Join(dir, name+".heap"))
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		if err := pprof.Lookup("allocs").WriteTo(h, 0); err != nil {
			b.Fatal(err)
		}
	}
}
