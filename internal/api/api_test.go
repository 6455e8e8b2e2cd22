package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/sqlite"
)

func openSQLite(t testing.TB) directory.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "epicd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t testing.TB) directory.Store {
	st, err := postgres.Open(context.Background(), pgtest.FreshDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

const password = "s3cret pass"

// fixture is what seed made.
type fixture struct {
	acme, beta, off *directory.Company
	people          []*directory.Person
	site            *directory.Site
	group           *directory.Group
	shift           *directory.Shift
	job             *directory.Job
}

func addUser(t testing.TB, st directory.Store, co *directory.Company, login string, roles ...directory.Role) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(context.Background(), &directory.User{CompanyID: co.ID, Login: login, PasswordHash: h, Roles: roles}); err != nil {
		t.Fatal(err)
	}
}

func company(t testing.TB, st directory.Store, name string, enabled bool) *directory.Company {
	t.Helper()
	c := &directory.Company{Name: name, EpicEnabled: enabled, Config: directory.DefaultConfig()}
	if err := st.CreateCompany(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// seed makes companies Acme (25 people, a group with a shift, a job),
// Beta (one person) and Off (not enabled for EPIC), and their users.
func seed(t testing.TB, st directory.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{acme: company(t, st, "Acme", true), beta: company(t, st, "Beta", true), off: company(t, st, "Off", false)}
	addUser(t, st, f.acme, "admin", directory.RoleAdmin)
	addUser(t, st, f.acme, "uploader", directory.RoleUploader)
	addUser(t, st, f.acme, "reader", directory.RoleReader)
	addUser(t, st, f.beta, "beta-admin", directory.RoleAdmin)
	addUser(t, st, f.off, "off-admin", directory.RoleAdmin)
	f.site = &directory.Site{Common: directory.Common{ID: uuid.New(), ExternalKey: "S1", Owned: true}, Name: "Head Office",
		Status: "ACTIVE", TimeZone: "Europe/Zurich", Latitude: "47.5", Longitude: ""}
	for i := range 25 {
		p := &directory.Person{Common: directory.Common{ID: uuid.New(), ExternalKey: fmt.Sprintf("P%02d", i), Owned: true},
			TargetName: fmt.Sprintf("user%02d", i), FirstName: "First", LastName: fmt.Sprintf("Last%02d", i), Status: "ACTIVE",
			SiteID: f.site.ID, Roles: []string{"Standard User"}}
		if i == 1 {
			p.TargetName = "jane doe/ops"
			p.Supervisors = []uuid.UUID{f.people[0].ID}
		}
		f.people = append(f.people, p)
	}
	f.group = &directory.Group{Common: directory.Common{ID: uuid.New(), ExternalKey: "G1", Owned: true}, TargetName: "DB Oncall",
		Status: "ACTIVE", SiteID: f.site.ID, Supervisors: []uuid.UUID{f.people[0].ID}, Observers: []string{"Group Supervisor"}}
	f.shift = &directory.Shift{Common: directory.Common{ID: uuid.New(), ExternalKey: "G1|Day"}, GroupID: f.group.ID, Name: "Day"}
	email := &directory.Device{Common: directory.Common{ID: uuid.New(), ExternalKey: "D1", Owned: true}, OwnerID: f.people[1].ID,
		Type: directory.Email, Name: "Work Email", Status: "ACTIVE", Order: 1, Default: true, Address: "jane@example.com"}
	phone := &directory.Device{Common: directory.Common{ID: uuid.New(), ExternalKey: "D2", Owned: true}, OwnerID: f.people[1].ID,
		Type: directory.Voice, Name: "Work Phone", Status: "ACTIVE", Order: 2, Phone: "5550100"}
	err := st.Update(ctx, f.acme.ID, func(tx directory.Tx) error {
		if err := tx.PutSites(true, []*directory.Site{f.site}); err != nil {
			return err
		}
		if err := tx.PutPeople(true, f.people); err != nil {
			return err
		}
		if err := tx.PutDevices(true, []*directory.Device{email, phone}); err != nil {
			return err
		}
		if err := tx.PutCustomValues(true, []*directory.CustomValue{{Common: directory.Common{ID: uuid.New(), ExternalKey: "C1"},
			PersonID: f.people[1].ID, FieldKey: "DEPARTMENT", Value: "Ops"}}); err != nil {
			return err
		}
		if err := tx.PutGroups(true, []*directory.Group{f.group}); err != nil {
			return err
		}
		if err := tx.PutShifts(true, []*directory.Shift{f.shift}); err != nil {
			return err
		}
		return tx.SetMembers(map[uuid.UUID][]*directory.Member{f.shift.ID: {
			{Type: directory.MemberPerson, MemberID: f.people[0].ID, Sequence: 1},
			{Type: directory.MemberDevice, MemberID: email.ID, Sequence: 2},
		}})
	})
	if err != nil {
		t.Fatal(err)
	}
	betaP := &directory.Person{Common: directory.Common{ID: uuid.New()}, TargetName: "bob", Status: "ACTIVE"}
	if err := st.Update(ctx, f.beta.ID, func(tx directory.Tx) error { return tx.PutPeople(true, []*directory.Person{betaP}) }); err != nil {
		t.Fatal(err)
	}
	var rows bytes.Buffer
	zw := gzip.NewWriter(&rows)
	io.WriteString(zw, "FILE,LINE,KEY,OUTCOME\n")
	for i := range 30 {
		fmt.Fprintf(zw, "DS_USERS.csv,%d,P%02d,UNCHANGED\n", i+2, i)
	}
	zw.Close()
	now := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	f.job = &directory.Job{ID: uuid.New(), CompanyID: f.acme.ID, Name: "=hr.zip", Status: directory.JobCompletedWithErrors,
		By: "uploader", ClientVersion: "epic/1.0.0", Started: now, Updated: now.Add(time.Minute), Finished: now.Add(time.Minute),
		Manifest: directory.JobManifest{Version: "1.3", Mirror: true}, Total: 30, Processed: 30,
		Summary: []directory.SummaryLine{{Synchronizer: "DS_USERS", Read: 30, Unchanged: 29, Failed: 1}},
		Details: []directory.Detail{{Synchronizer: "DS_USERS", Event: "UNKNOWN_SITE", Status: "FAILURE", Level: "ROW", Time: now,
			File: "DS_USERS.csv", Line: 3, RowKey: "P01", Field: "SITE", Value: "=HYPERLINK(\"x\")", Message: "-no such site"}},
		Rows: rows.Bytes()}
	if err := st.SaveJob(ctx, f.job); err != nil {
		t.Fatal(err)
	}
	return f
}

// client calls a handler as one user.
type client struct {
	t      testing.TB
	url    string
	login  string
	pass   string
	header http.Header
}

type resp struct {
	code   int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (c client) do(method, path string, body io.Reader, contentType string) resp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.login != "" {
		req.SetBasicAuth(c.login, c.pass)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp{code: res.StatusCode, header: res.Header, body: b}
}

func (c client) get(path string) resp { c.t.Helper(); return c.do("GET", path, nil, "") }

// wantError checks an error answer: status, JSON body with code, reason,
// a message containing each of words.
func wantError(t testing.TB, r resp, code int, words ...string) map[string]any {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d: %s", r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := r.json(t)
	if m["code"] != float64(code) || m["reason"] != http.StatusText(code) {
		t.Errorf("error body %s: want code %d, reason %q", r.body, code, http.StatusText(code))
	}
	msg, _ := m["message"].(string)
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("error message %q does not say %q", msg, w)
		}
	}
	return m
}
