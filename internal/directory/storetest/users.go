package storetest

import (
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/epicsync/epic/internal/directory"
)

var userTests = []test{
	{"RoundTrip", testUserRoundTrip},
	{"LoginUniqueAcrossCompanies", testUserLoginUnique},
	{"NotFound", testUserNotFound},
}

func testUserRoundTrip(t *testing.T, s directory.Store) {
	co := newCompany(t, s, "Acme")
	u := &directory.User{CompanyID: co, Login: "Uploader", PasswordHash: []byte("$2a$10$hash"),
		Roles: []directory.Role{directory.RoleUploader, directory.RoleReader}}
	if err := s.AddUser(t.Context(), u); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	if u.ID.String() == "00000000-0000-0000-0000-000000000000" || u.Created.IsZero() {
		t.Fatalf("AddUser left ID %s, Created %v", u.ID, u.Created)
	}
	got, c, err := s.UserByLogin(t.Context(), "uPLOADER")
	if err != nil {
		t.Fatalf("UserByLogin: %v", err)
	}
	if diff := gocmp.Diff(u, got); diff != "" {
		t.Errorf("UserByLogin (-added +got):\n%s", diff)
	}
	if c.ID != co || c.Name != "Acme" || !c.EpicEnabled {
		t.Errorf("UserByLogin company = %+v, want Acme (%s), enabled", c, co)
	}
}

func testUserLoginUnique(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "A")
	b := newCompany(t, s, "B")
	if err := s.AddUser(t.Context(), &directory.User{CompanyID: a, Login: "ops", PasswordHash: []byte("x"),
		Roles: []directory.Role{directory.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	err := s.AddUser(t.Context(), &directory.User{CompanyID: b, Login: "OPS", PasswordHash: []byte("y"),
		Roles: []directory.Role{directory.RoleReader}})
	if !errors.Is(err, directory.ErrExists) {
		t.Fatalf("AddUser of a taken login in another company: %v, want ErrExists", err)
	}
	u, _, err := s.UserByLogin(t.Context(), "ops")
	if err != nil || u.CompanyID != a {
		t.Fatalf("UserByLogin after the refused add: %+v, %v", u, err)
	}
}

func testUserNotFound(t *testing.T, s directory.Store) {
	if _, _, err := s.UserByLogin(t.Context(), "nobody"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("UserByLogin of an unknown login: %v, want ErrNotFound", err)
	}
	co := newCompany(t, s, "A")
	s2 := &directory.User{CompanyID: co, Login: "x", PasswordHash: []byte("x")}
	s2.CompanyID[0] ^= 0xff
	if err := s.AddUser(t.Context(), s2); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("AddUser to a company that does not exist: %v, want ErrNotFound", err)
	}
}
