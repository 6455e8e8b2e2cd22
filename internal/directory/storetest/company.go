package storetest

import (
	"errors"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var companyTests = []test{
	{"CreateAndGet", testCompanyCreateAndGet},
	{"CaseInsensitiveName", testCompanyCaseInsensitive},
	{"Exists", testCompanyExists},
	{"NotFound", testCompanyNotFound},
	{"List", testCompanyList},
	{"ConfigRoundTrip", testCompanyConfig},
	{"UnknownCompany", testUnknownCompany},
	{"EmptyDirectory", testEmptyDirectory},
}

// companyOpts compares companies: times to the microsecond, lists inside
// Config nil or empty alike.
var companyOpts = gocmp.Options{
	cmpopts.EquateApproxTime(time.Microsecond),
	cmpopts.EquateEmpty(),
}

func testCompanyCreateAndGet(t *testing.T, s directory.Store) {
	before := time.Now()
	c := &directory.Company{Name: "Acme Corp", EpicEnabled: true, Config: directory.DefaultConfig()}
	if err := s.CreateCompany(ctx(t), c); err != nil {
		t.Fatalf("CreateCompany: %v", err)
	}
	if c.ID == uuid.Nil {
		t.Fatal("CreateCompany left the ID nil")
	}
	if c.Created.IsZero() || c.Created.Before(before.Add(-time.Second)) || c.Created.After(time.Now().Add(time.Second)) {
		t.Fatalf("Created = %v, want about %v", c.Created, before)
	}
	got, err := s.Company(ctx(t), "Acme Corp")
	if err != nil {
		t.Fatalf("Company: %v", err)
	}
	if diff := gocmp.Diff(c, got, companyOpts); diff != "" {
		t.Errorf("Company (-created +got):\n%s", diff)
	}

	d := &directory.Company{Name: "Disabled Inc", EpicEnabled: false, Config: directory.DefaultConfig()}
	if err := s.CreateCompany(ctx(t), d); err != nil {
		t.Fatalf("CreateCompany: %v", err)
	}
	if d.ID == c.ID {
		t.Fatal("two companies got the same ID")
	}
	got, err = s.Company(ctx(t), "Disabled Inc")
	if err != nil {
		t.Fatalf("Company: %v", err)
	}
	if diff := gocmp.Diff(d, got, companyOpts); diff != "" {
		t.Errorf("Company (-created +got):\n%s", diff)
	}
}

func testCompanyCaseInsensitive(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	for _, name := range []string{"acme corp", "ACME CORP", "aCmE cOrP"} {
		got, err := s.Company(ctx(t), name)
		if err != nil {
			t.Fatalf("Company(%q): %v", name, err)
		}
		if got.ID != id || got.Name != "Acme Corp" {
			t.Errorf("Company(%q) = %v %q, want %v %q", name, got.ID, got.Name, id, "Acme Corp")
		}
	}
}

func testCompanyExists(t *testing.T, s directory.Store) {
	newCompany(t, s, "Acme Corp")
	for _, name := range []string{"Acme Corp", "ACME CORP", "acme corp"} {
		err := s.CreateCompany(ctx(t), &directory.Company{Name: name, Config: directory.DefaultConfig()})
		if !errors.Is(err, directory.ErrExists) {
			t.Errorf("CreateCompany(%q) = %v, want ErrExists", name, err)
		}
	}
	list, err := s.Companies(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("Companies = %d companies, want 1", len(list))
	}
}

func testCompanyNotFound(t *testing.T, s directory.Store) {
	newCompany(t, s, "Acme Corp")
	for _, name := range []string{"Acme", "Acme Corp ", "", "Other"} {
		if _, err := s.Company(ctx(t), name); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("Company(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

func testCompanyList(t *testing.T, s directory.Store) {
	list, err := s.Companies(ctx(t))
	if err != nil {
		t.Fatalf("Companies: %v", err)
	}
	if len(list) != 0 {
		t.Fatalf("Companies of an empty store = %d, want 0", len(list))
	}
	want := map[string]uuid.UUID{}
	for _, name := range []string{"Gamma Ltd", "Alpha AG", "Delta SA", "Beta GmbH"} {
		want[name] = newCompany(t, s, name)
	}
	list, err = s.Companies(ctx(t))
	if err != nil {
		t.Fatalf("Companies: %v", err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
		if want[c.Name] != c.ID {
			t.Errorf("Companies: %q has ID %v, want %v", c.Name, c.ID, want[c.Name])
		}
		if c.Created.IsZero() || !c.EpicEnabled || len(c.Config.Roles) == 0 {
			t.Errorf("Companies: %q comes back incomplete: %+v", c.Name, c)
		}
	}
	if diff := gocmp.Diff([]string{"Alpha AG", "Beta GmbH", "Delta SA", "Gamma Ltd"}, names); diff != "" {
		t.Errorf("Companies not by name (-want +got):\n%s", diff)
	}
}

func testCompanyConfig(t *testing.T, s directory.Store) {
	cfg := directory.Config{
		Roles: []string{"Standard User", "Überwacher", "Company Administrator"},
		DeviceNames: map[directory.DeviceType][]string{
			directory.Email:        {"Work Email", "Home Email", "Other Email"},
			directory.Voice:        {"Mobile Phone"},
			directory.TextPhone:    {"SMS"},
			directory.TextPager:    {"Pager"},
			directory.NumericPager: {"Numeric Pager"},
			directory.IM:           {"Chat"},
			directory.VoiceIVR:     {"IVR"},
			directory.Fax:          {"Fax", "Fax 2"},
		},
		PagingProviders: []string{"Generic Paging", "Other"},
		CustomFields: []directory.CustomField{
			{Key: "DEPARTMENT", Name: "Department"},
			{Key: "BADGE", Name: "Badge number"},
		},
		TimeZones: []string{"Europe/Zurich", "UTC"},
		Languages: []string{"de", "en"},
		Limits:    directory.SafetyLimits{Enabled: false, RemovePercent: 33, RemoveMin: 7, MinPeoplePercent: 80},
	}
	c := &directory.Company{Name: "Configured", EpicEnabled: true, Config: cfg}
	if err := s.CreateCompany(ctx(t), c); err != nil {
		t.Fatalf("CreateCompany: %v", err)
	}
	got, err := s.Company(ctx(t), "configured")
	if err != nil {
		t.Fatalf("Company: %v", err)
	}
	if diff := gocmp.Diff(cfg, got.Config, companyOpts); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}

	// The default configuration, and an empty one, round-trip too.
	def := &directory.Company{Name: "Defaulted", Config: directory.DefaultConfig()}
	empty := &directory.Company{Name: "Empty"}
	for _, c := range []*directory.Company{def, empty} {
		if err := s.CreateCompany(ctx(t), c); err != nil {
			t.Fatalf("CreateCompany: %v", err)
		}
		got, err := s.Company(ctx(t), c.Name)
		if err != nil {
			t.Fatalf("Company: %v", err)
		}
		if diff := gocmp.Diff(c.Config, got.Config, companyOpts); diff != "" {
			t.Errorf("Config of %s (-want +got):\n%s", c.Name, diff)
		}
	}
}

func testUnknownCompany(t *testing.T, s directory.Store) {
	newCompany(t, s, "Acme Corp")
	unknown := uuid.New()
	called := false
	err := s.Update(ctx(t), unknown, func(directory.Tx) error { called = true; return nil })
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Update of an unknown company = %v, want ErrNotFound", err)
	}
	err = s.View(ctx(t), unknown, func(directory.View) error { called = true; return nil })
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("View of an unknown company = %v, want ErrNotFound", err)
	}
	if called {
		t.Error("fn was called for an unknown company")
	}
	if _, err := s.Job(ctx(t), unknown, uuid.New()); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Job of an unknown company = %v, want ErrNotFound", err)
	}
}

func testEmptyDirectory(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	snap := snapshot(t, s, id)
	if diff := gocmp.Diff(&Snapshot{}, snap); diff != "" {
		t.Errorf("directory of a new company (-want +got):\n%s", diff)
	}
	jobs, err := s.Jobs(ctx(t), id)
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(jobs) != 0 {
		t.Errorf("Jobs of a new company = %d, want 0", len(jobs))
	}
}
