package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/sqlite"
)

// rowDefaults fill every column a test row leaves out, so that a row reads
// like "person U1 named ada" and nothing else.
var rowDefaults = map[string]map[string]string{
	archive.FileSites:        {"SITENAME": "Berlin", "STATUS": "ACTIVE", "SITE_TIMEZONE": "Europe/Berlin"},
	archive.FileUsers:        {"FIRST_NAME": "Ada", "LAST_NAME": "Lovelace", "STATUS": "ACTIVE", "ROLE_LIST": "Standard User", "SITE_NAME": "Berlin"},
	archive.FileEmail:        {"DEVICE_NAME": "Work Email", "ADDRESS": "someone@example.com"},
	archive.FileVoice:        {"DEVICE_NAME": "Work Phone", "PHONE_NUMBER": "+49 30 1234567"},
	archive.FileGroups:       {"STATUS": "ACTIVE", "USE_DEFAULT_DEVICES": "Y", "TIMEZONE": "Europe/Berlin"},
	archive.FileTeams:        {"SUB_TARGET_NAME": "Day", "USE_DEFAULT_DEVICES": "Y", "ESCALATION_SCHEDULE": "0", "IS_ROUND_ROBIN": "N"},
	archive.FileCustomValues: {"FIELD_KEY": "DEPARTMENT", "CUSTOM_VALUE": "Ops"},
	archive.FileMemberships:  {"MEMBER_TYPE": "PERSON", "MEMBER_SEQUENCE_NUMBER": "1"},
}

var commonDefaults = map[string]string{"IS_EXTERNALLY_OWNED": "Y", "ACTION": "Y", "STATUS": "ACTIVE",
	"DEFAULT_DEVICE": "N", "DEVICE_ORDER": "0", "DELAY": "0", "LOCK_24x7": "N"}

// arc is a test archive: rows per file as column=value pairs.
type arc struct {
	mirror              bool
	ignore              string // deviceNamesToIgnore
	ignoreOrderAndDelay bool
	rows                map[string][]string // file -> rows "COL=value;COL=value"
}

// zip writes the archive to a temporary file.
func (a arc) zip(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := archive.NewZipWriter(f, archive.Latest)
	m := archive.DefaultManifest()
	m.Mirror, m.IgnoreDeviceOrderAndDelay = a.mirror, a.ignoreOrderAndDelay
	if a.ignore != "" {
		m.DeviceNamesToIgnore = strings.Split(a.ignore, "|")
	}
	if err := w.WriteManifest(m); err != nil {
		t.Fatal(err)
	}
	for _, l := range archive.Layouts(archive.Latest) {
		fw, err := w.Create(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range a.rows[l.Name] {
			vals := map[string]string{}
			for k, v := range commonDefaults {
				vals[k] = v
			}
			for k, v := range rowDefaults[l.Name] {
				vals[k] = v
			}
			for _, kv := range strings.Split(spec, ";") {
				k, v, _ := strings.Cut(kv, "=")
				vals[k] = v
			}
			row := fw.Row()
			for i, c := range l.Columns {
				row[i] = vals[c.Name]
			}
			if err := fw.Write(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// env is a store with one company.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   directory.Store
	company *directory.Company
	eng     *engine.Engine
}

// stores are the Store implementations every engine test runs against.
var stores = []struct {
	name string
	open func(t *testing.T) directory.Store
}{
	{"sqlite", func(t *testing.T) directory.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "epicd.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
	{"postgres", func(t *testing.T) directory.Store {
		st, err := postgres.Open(context.Background(), pgtest.FreshDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// eachStore runs fn once per store, each with a fresh store and company.
func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			st := s.open(t)
			t.Cleanup(func() { st.Close() })
			fn(t, &env{t: t, ctx: context.Background(), store: st, company: addCompany(t, st, "Acme"),
				eng: &engine.Engine{Store: st, Limits: archive.DefaultLimits()}})
		})
	}
}

// addCompany adds a company with the default configuration but the safety
// gate switched off: the rule tests remove as much as they like, and
// gate_test.go tests the gate.
func addCompany(t *testing.T, st directory.Store, name string) *directory.Company {
	t.Helper()
	cfg := directory.DefaultConfig()
	cfg.Limits.Enabled = false
	co := &directory.Company{Name: name, EpicEnabled: true, Config: cfg}
	if err := st.CreateCompany(context.Background(), co); err != nil {
		t.Fatal(err)
	}
	return co
}

// apply applies a and returns the job.
func (e *env) apply(a arc) *directory.Job {
	e.t.Helper()
	return e.applyTo(e.company, a)
}

func (e *env) applyTo(co *directory.Company, a arc) *directory.Job {
	e.t.Helper()
	job, err := e.eng.Apply(e.ctx, co, a.zip(e.t), engine.Job{By: "test"})
	if err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
	return job
}

// outcomes returns the row outcomes of a job as "FILE:LINE:OUTCOME".
func outcomes(t *testing.T, j *directory.Job) []string {
	t.Helper()
	rows, err := engine.RowResults(j)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, strings.TrimSuffix(r.File, ".csv")+":"+r.Line+":"+r.Outcome)
	}
	return out
}

// dir is a snapshot of a company's directory, by external key or name.
type dir struct {
	sites   map[string]*directory.Site
	people  map[string]*directory.Person // by target name
	devices map[string]*directory.Device // by "owner|name"
	customs map[string]*directory.CustomValue
	groups  map[string]*directory.Group
	shifts  map[string]*directory.Shift
	members map[string][]string // shift external key -> member type:ID
}

func (e *env) dir() *dir {
	return e.dirOf(e.company)
}

func (e *env) dirOf(co *directory.Company) *dir {
	e.t.Helper()
	d := &dir{sites: map[string]*directory.Site{}, people: map[string]*directory.Person{}, devices: map[string]*directory.Device{},
		customs: map[string]*directory.CustomValue{}, groups: map[string]*directory.Group{}, shifts: map[string]*directory.Shift{},
		members: map[string][]string{}}
	err := e.store.View(e.ctx, co.ID, func(v directory.View) error {
		names := map[string]string{}
		v.Sites(func(s *directory.Site) error { d.sites[s.Name] = s; return nil })
		v.People(func(p *directory.Person) error {
			d.people[p.TargetName] = p
			names[p.ID.String()] = p.TargetName
			return nil
		})
		v.Devices(func(x *directory.Device) error { d.devices[names[x.OwnerID.String()]+"|"+x.Name] = x; return nil })
		v.CustomValues(func(c *directory.CustomValue) error {
			d.customs[names[c.PersonID.String()]+"|"+c.FieldKey] = c
			return nil
		})
		v.Groups(func(g *directory.Group) error {
			d.groups[g.TargetName] = g
			names[g.ID.String()] = g.TargetName
			return nil
		})
		shiftKeys := map[string]string{}
		v.Shifts(func(s *directory.Shift) error {
			d.shifts[s.ExternalKey] = s
			shiftKeys[s.ID.String()] = s.ExternalKey
			return nil
		})
		return v.Members(func(m *directory.Member) error {
			k := shiftKeys[m.ShiftID.String()]
			d.members[k] = append(d.members[k], string(m.Type)+":"+names[m.MemberID.String()])
			return nil
		})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func engineJob() engine.Job { return engine.Job{By: "test"} }

// newEnv is an env on a fresh SQLite store, for tests that need only one.
func newEnv(t *testing.T) *env {
	t.Helper()
	st := stores[0].open(t)
	t.Cleanup(func() { st.Close() })
	return &env{t: t, ctx: context.Background(), store: st, company: addCompany(t, st, "Acme"),
		eng: &engine.Engine{Store: st, Limits: archive.DefaultLimits()}}
}
