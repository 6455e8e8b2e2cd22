package api_test

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/api"
	"github.com/epicsync/epic/internal/directory"
)

func TestAPISQLite(t *testing.T)   { apiSuite(t, openSQLite) }
func TestAPIPostgres(t *testing.T) { apiSuite(t, openPostgres) }

// apiSuite runs every read, auth and error test against a server over a
// real store.
func apiSuite(t *testing.T, open func(testing.TB) directory.Store) {
	st := open(t)
	f := seed(t, st)
	srv := httptest.NewServer(api.New(api.Config{Store: st, Version: "1.2.3"}))
	t.Cleanup(srv.Close)
	as := func(login string) client { return client{t: t, url: srv.URL, login: login, pass: password} }
	anon := client{t: t, url: srv.URL}
	admin, reader, uploader := as("admin"), as("reader"), as("uploader")

	t.Run("Public", func(t *testing.T) {
		anon.t = t
		m := anon.get("/api/epic/1/version").json(t)
		if m["version"] != "1.2.3" || len(m["archiveVersions"].([]any)) != 4 || m["minClientVersion"] == "" {
			t.Errorf("version = %v", m)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if r := anon.get(p); r.code != 200 {
				t.Errorf("%s: %d %s", p, r.code, r.body)
			}
		}
		if r := anon.get("/metrics"); r.code != 200 || !strings.Contains(string(r.body), "epicd_http_requests_total") {
			t.Errorf("/metrics: %d %.200s", r.code, r.body)
		}
	})

	t.Run("Auth", func(t *testing.T) {
		r := anon.get("/api/xm/1/people")
		wantError(t, r, 401, "authentication required")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("401 without a Basic challenge: %q", r.header.Get("WWW-Authenticate"))
		}
		wrong := client{t: t, url: srv.URL, login: "admin", pass: "wrong"}
		a := wantError(t, wrong.get("/api/xm/1/people"), 401, "wrong login or password")
		unknown := client{t: t, url: srv.URL, login: "nobody", pass: password}
		b := wantError(t, unknown.get("/api/xm/1/people"), 401, "wrong login or password")
		if a["message"] != b["message"] {
			t.Errorf("unknown user %q and wrong password %q answer differently", b["message"], a["message"])
		}
		// Logins are case-insensitive; the cache must not let a wrong
		// password in after a right one.
		if r := as("ADMIN").get("/api/xm/1/people"); r.code != 200 {
			t.Errorf("login ADMIN: %d %s", r.code, r.body)
		}
		wantError(t, wrong.get("/api/xm/1/people"), 401)
		wantError(t, uploader.get("/api/xm/1/people"), 403, "reader")
		if r := uploader.get("/api/xm/1/imports"); r.code != 200 {
			t.Errorf("uploader reading imports: %d %s", r.code, r.body)
		}
		wantError(t, reader.do("POST", "/api/xm/1/uploads/epic-v1", strings.NewReader(""), "multipart/form-data; boundary=x"), 403, "epic-uploader")
		wantError(t, reader.do("POST", "/api/xm/1/imports/"+f.job.ID.String()+"/approve", nil, ""), 403, "company-admin")
	})

	t.Run("CrossCompany", func(t *testing.T) {
		beta := as("beta-admin")
		beta.t = t
		for _, p := range []struct{ path, id string }{
			{"/api/xm/1/people/%s", f.people[0].ID.String()},
			{"/api/xm/1/people/%s", f.people[0].TargetName},
			{"/api/xm/1/people/%s/devices", f.people[1].ID.String()},
			{"/api/xm/1/groups/%s", f.group.ID.String()},
			{"/api/xm/1/groups/%s/members", f.group.TargetName},
			{"/api/xm/1/sites/%s", f.site.ID.String()},
			{"/api/xm/1/imports/%s", f.job.ID.String()},
			{"/api/xm/1/imports/%s/report.csv", f.job.ID.String()},
		} {
			other := beta.get(strings.Replace(p.path, "%s", url.PathEscape(p.id), 1))
			fake := uuid.NewString()
			none := beta.get(strings.Replace(p.path, "%s", fake, 1))
			wantError(t, other, 404)
			wantError(t, none, 404)
			if strings.ReplaceAll(string(other.body), p.id, "ID") != strings.ReplaceAll(string(none.body), fake, "ID") {
				t.Errorf("%s: another company's object answers\n%s\nbut a missing one\n%s", p.path, other.body, none.body)
			}
		}
		m := beta.get("/api/xm/1/people").json(t)
		if m["total"] != float64(1) {
			t.Errorf("beta sees %v people, want its 1", m["total"])
		}
	})

	t.Run("Pagination", func(t *testing.T) {
		m := admin.get("/api/xm/1/people?limit=10&embed=roles").json(t)
		if m["count"] != float64(10) || m["total"] != float64(25) {
			t.Fatalf("page 1: count %v total %v", m["count"], m["total"])
		}
		l := m["links"].(map[string]any)
		if l["self"] != "/api/xm/1/people?embed=roles&limit=10&offset=0" || l["next"] != "/api/xm/1/people?embed=roles&limit=10&offset=10" {
			t.Errorf("links = %v", l)
		}
		seen := map[string]bool{}
		next := "/api/xm/1/people?limit=10"
		pages := 0
		for next != "" {
			m := admin.get(next).json(t)
			for _, p := range m["data"].([]any) {
				seen[p.(map[string]any)["id"].(string)] = true
			}
			next, _ = m["links"].(map[string]any)["next"].(string)
			pages++
		}
		if len(seen) != 25 || pages != 3 {
			t.Errorf("following next: %d people in %d pages, want 25 in 3", len(seen), pages)
		}
		m = admin.get("/api/xm/1/people?offset=100").json(t)
		if m["count"] != float64(0) || m["total"] != float64(25) || len(m["data"].([]any)) != 0 {
			t.Errorf("past the end: %v", m)
		}
		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "offset=-1", "offset=1.5"} {
			name, _, _ := strings.Cut(q, "=")
			wantError(t, admin.get("/api/xm/1/people?"+q), 400, name)
		}
		wantError(t, admin.get("/api/xm/1/people?embed=bogus"), 400, "embed", "bogus")
	})

	t.Run("Person", func(t *testing.T) {
		jane := f.people[1]
		byID := admin.get("/api/xm/1/people/" + jane.ID.String() + "?embed=roles,supervisors")
		byName := admin.get("/api/xm/1/people/" + url.PathEscape(jane.TargetName) + "/?embed=roles,supervisors")
		if byID.code != 200 || string(byID.body) != string(byName.body) {
			t.Fatalf("by id %d %s\nby name %d %s", byID.code, byID.body, byName.code, byName.body)
		}
		if strings.Contains(string(byID.body), "null") {
			t.Errorf("a person has a null: %s", byID.body)
		}
		m := byID.json(t)
		if m["recipientType"] != "PERSON" || m["targetName"] != "jane doe/ops" || m["externallyOwned"] != true ||
			m["site"].(map[string]any)["name"] != "Head Office" || m["properties"].(map[string]any)["Department"] != "Ops" {
			t.Errorf("person = %s", byID.body)
		}
		if _, ok := m["language"]; ok {
			t.Errorf("an unset language is not omitted: %s", byID.body)
		}
		sup := m["supervisors"].(map[string]any)["data"].([]any)[0].(map[string]any)
		roles := m["roles"].(map[string]any)
		if sup["targetName"] != "user00" || roles["count"] != float64(1) {
			t.Errorf("embedded supervisors %v, roles %v", sup, roles)
		}
		plain := admin.get("/api/xm/1/people/user00").json(t)
		if _, ok := plain["roles"]; ok {
			t.Errorf("roles without embed=roles")
		}
		s := admin.get("/api/xm/1/people/" + url.PathEscape(jane.TargetName) + "/supervisors").json(t)
		if s["total"] != float64(1) {
			t.Errorf("supervisors = %v", s)
		}
		wantError(t, admin.get("/api/xm/1/people/nobody"), 404, "nobody")
	})

	t.Run("Devices", func(t *testing.T) {
		m := admin.get("/api/xm/1/people/" + url.PathEscape("jane doe/ops") + "/devices").json(t)
		data := m["data"].([]any)
		if m["total"] != float64(2) || len(data) != 2 {
			t.Fatalf("devices of jane = %v", m)
		}
		d := data[0].(map[string]any)
		if d["name"] != "Work Email" || d["targetName"] != "jane doe/ops|Work Email" || d["emailAddress"] != "jane@example.com" ||
			d["recipientType"] != "DEVICE" || d["deviceType"] != "EMAIL" || d["sequence"] != float64(1) {
			t.Errorf("device = %v", d)
		}
		one := admin.get("/api/xm/1/devices/" + url.PathEscape("jane doe/ops|work phone")).json(t)
		if one["phoneNumber"] != "5550100" || one["owner"].(map[string]any)["targetName"] != "jane doe/ops" {
			t.Errorf("device by name = %v", one)
		}
		if all := admin.get("/api/xm/1/devices").json(t); all["total"] != float64(2) {
			t.Errorf("devices total = %v", all["total"])
		}
		wantError(t, admin.get("/api/xm/1/devices/"+url.PathEscape("jane doe/ops|Pager")), 404, "owner|Device Name")
	})

	t.Run("Groups", func(t *testing.T) {
		g := admin.get("/api/xm/1/groups/DB%20Oncall").json(t)
		if g["groupType"] != "ON_CALL" || g["recipientType"] != "GROUP" || g["site"].(map[string]any)["name"] != "Head Office" ||
			g["supervisors"].(map[string]any)["count"] != float64(1) || g["observers"].(map[string]any)["count"] != float64(1) {
			t.Errorf("group = %v", g)
		}
		sh := admin.get("/api/xm/1/groups/" + f.group.ID.String() + "/shifts").json(t)
		if sh["total"] != float64(1) {
			t.Errorf("shifts = %v", sh)
		}
		mem := admin.get("/api/xm/1/groups/DB%20Oncall/members?limit=1").json(t)
		if mem["total"] != float64(2) || mem["count"] != float64(1) || mem["links"].(map[string]any)["next"] == nil {
			t.Errorf("members = %v", mem)
		}
		if l := admin.get("/api/xm/1/groups").json(t); l["total"] != float64(1) {
			t.Errorf("groups = %v", l)
		}
	})

	t.Run("SitesRoles", func(t *testing.T) {
		s := admin.get("/api/xm/1/sites/Head%20Office").json(t)
		if s["latitude"] != 47.5 || s["timezone"] != "Europe/Zurich" {
			t.Errorf("site = %v", s)
		}
		if _, ok := s["longitude"]; ok {
			t.Errorf("an empty longitude is not omitted")
		}
		if l := reader.get("/api/xm/1/sites").json(t); l["total"] != float64(1) {
			t.Errorf("sites = %v", l)
		}
		if l := reader.get("/api/xm/1/roles").json(t); l["total"] != float64(5) {
			t.Errorf("roles = %v", l)
		}
	})

	t.Run("Imports", func(t *testing.T) {
		id := f.job.ID.String()
		l := uploader.get("/api/xm/1/imports").json(t)
		if l["total"] != float64(1) {
			t.Fatalf("imports = %v", l)
		}
		j := uploader.get("/api/xm/1/imports/" + id).json(t)
		for _, k := range []string{"id", "name", "transform", "status", "started", "lastUpdatedAt", "finishedAt", "by",
			"clientVersion", "totalCount", "processedCount", "supersededBy", "manifest", "summary", "links"} {
			if _, ok := j[k]; !ok {
				t.Errorf("job has no %q: %v", k, j)
			}
		}
		if j["transform"] != "EPIC" || j["status"] != "COMPLETED_WITH_ERRORS" || j["started"] != "2026-12-04T19:00:00Z" ||
			j["by"].(map[string]any)["targetName"] != "uploader" || j["by"].(map[string]any)["id"] == nil ||
			j["supersededBy"] != nil || j["links"].(map[string]any)["self"] != "/api/xm/1/imports/"+id {
			t.Errorf("job = %v", j)
		}
		msgs := uploader.get("/api/xm/1/imports/" + id + "/import-messages").json(t)
		if msgs["total"] != float64(1) || msgs["data"].([]any)[0].(map[string]any)["eventType"] != "UNKNOWN_SITE" {
			t.Errorf("import-messages = %v", msgs)
		}
		rows := uploader.get("/api/xm/1/imports/" + id + "/rows?offset=25&limit=10").json(t)
		data := rows["data"].([]any)
		if rows["total"] != float64(30) || len(data) != 5 || data[0].(map[string]any)["rowKey"] != "P25" ||
			data[0].(map[string]any)["line"] != float64(27) {
			t.Errorf("rows = %v", rows)
		}
		r := uploader.get("/api/xm/1/imports/" + id + "/report.csv")
		if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("report.csv: %d %s", r.code, r.header)
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err == nil {
			t.Fatalf("report.csv has sections of different widths; csv read it whole")
		}
		text := string(r.body)
		for _, want := range []string{"'=hr.zip", `"'=HYPERLINK(""x"")"`, "'-no such site", "DS_USERS,30,0,0,0,29,0,0,0,1"} {
			if !strings.Contains(text, want) {
				t.Errorf("report.csv lacks %q:\n%s", want, text)
			}
		}
		_ = recs
		wantError(t, admin.do("POST", "/api/xm/1/imports/"+id+"/approve", nil, ""), 409, "HELD")
		wantError(t, admin.get("/api/xm/1/imports/not-a-uuid"), 404)
	})

	t.Run("Decide", func(t *testing.T) {
		admin.t, reader.t = t, t
		heldJob := func() string {
			t.Helper()
			now := time.Now().UTC()
			j := &directory.Job{ID: uuid.New(), CompanyID: f.acme.ID, Name: "half.zip", Status: directory.JobHeld, By: "uploader",
				Started: now, Updated: now, Details: []directory.Detail{{Synchronizer: "SAFETY", Event: directory.EventSafetyLimit,
					Status: "WARNING", Level: "ARCHIVE", Time: now, Message: "would remove 50 of 100 people (50 %)"}}}
			if err := st.SaveJob(t.Context(), j); err != nil {
				t.Fatal(err)
			}
			return j.ID.String()
		}
		a, b := heldJob(), heldJob()
		wantError(t, reader.do("POST", "/api/xm/1/imports/"+a+"/approve", nil, ""), 403, "company-admin")
		wantError(t, reader.do("POST", "/api/xm/1/imports/"+a+"/reject", nil, ""), 403, "company-admin")
		if m := admin.do("POST", "/api/xm/1/imports/"+a+"/approve", nil, "").json(t); m["status"] != "QUEUED" {
			t.Errorf("approve: %v, want QUEUED", m)
		}
		wantError(t, admin.do("POST", "/api/xm/1/imports/"+a+"/approve", nil, ""), 409, "is QUEUED, not HELD")
		wantError(t, admin.do("POST", "/api/xm/1/imports/"+a+"/reject", nil, ""), 409, "is QUEUED, not HELD")
		if m := admin.do("POST", "/api/xm/1/imports/"+b+"/reject", nil, "").json(t); m["status"] != "REJECTED" {
			t.Errorf("reject: %v, want REJECTED", m)
		}
		wantError(t, admin.do("POST", "/api/xm/1/imports/"+b+"/approve", nil, ""), 409, "is REJECTED, not HELD")
		wantError(t, as("beta-admin").do("POST", "/api/xm/1/imports/"+heldJob()+"/approve", nil, ""), 404)
		wantError(t, admin.do("POST", "/api/xm/1/imports/"+uuid.NewString()+"/reject", nil, ""), 404)
	})

	t.Run("Errors", func(t *testing.T) {
		wantError(t, admin.get("/api/xm/1/nothing"), 404, "/api/xm/1/nothing")
		wantError(t, anon.get("/nothing"), 404)
		r := admin.do("DELETE", "/api/xm/1/people", nil, "")
		wantError(t, r, 405, "DELETE")
		if r.header.Get("Allow") != "GET" {
			t.Errorf("Allow = %q", r.header.Get("Allow"))
		}
		wantError(t, admin.do("PUT", "/api/xm/1/uploads/epic-v1", nil, ""), 405)
		if r := admin.get("/api/xm/1/people/"); r.code != 200 {
			t.Errorf("trailing slash: %d", r.code)
		}
		wantError(t, admin.do("POST", "/api/epic/1/batch-runs", nil, ""), 503, "scheduler")
		wantError(t, admin.do("POST", "/api/xm/1/uploads/epic-v1", strings.NewReader("x"), "multipart/form-data; boundary=x"), 503, "queue")
	})
}

func TestReadyzDown(t *testing.T) {
	st := openSQLite(t)
	srv := httptest.NewServer(api.New(api.Config{Store: st}))
	defer srv.Close()
	st.Close()
	wantError(t, client{t: t, url: srv.URL}.get("/readyz"), http.StatusServiceUnavailable, "database")
}
