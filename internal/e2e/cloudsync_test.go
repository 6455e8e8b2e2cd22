package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/generate"
	premisesdb "github.com/epicsync/epic/internal/premises"
)

// cloudsyncConfig writes the epic.toml of a cloudsync from premises to
// the service (whose login comes from the environment).
func cloudsyncConfig(t testing.TB, premises *service) string {
	t.Helper()
	dir := t.TempDir()
	where := fmt.Sprintf("data = %q", premises.data)
	if premises.db != "" {
		where = fmt.Sprintf("database = %q", premises.db)
	}
	p := filepath.Join(dir, "epic.toml")
	text := fmt.Sprintf("[cloudsync]\n%s\ncompany = \"Acme\"\n[health]\nstate_file = %q\n", where, filepath.Join(dir, "state.json"))
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// directoryView is what the API shows of the company's directory, with
// the ids and links (which differ between two services) left out.
func directoryView(s *service, login string) map[string]any {
	s.t.Helper()
	out := map[string]any{}
	all := func(path string) []any {
		var items []any
		for next := path; next != ""; {
			var page struct {
				Data  []any `json:"data"`
				Links struct {
					Next string `json:"next"`
				} `json:"links"`
			}
			if code := s.get(login, next, &page); code != 200 {
				s.t.Fatalf("GET %s: %d", next, code)
			}
			items = append(items, page.Data...)
			next = page.Links.Next
			if u, err := url.Parse(next); err == nil && u.IsAbs() {
				next = u.RequestURI()
			}
		}
		return items
	}
	for _, path := range []string{"/api/xm/1/people?embed=roles,supervisors&limit=1000", "/api/xm/1/devices?limit=1000",
		"/api/xm/1/groups?limit=1000", "/api/xm/1/sites?limit=1000"} {
		out[path] = strip(all(path))
	}
	for _, g := range out["/api/xm/1/groups?limit=1000"].([]any) {
		name := g.(map[string]any)["targetName"].(string)
		path := "/api/xm/1/groups/" + url.PathEscape(name) + "/shifts?limit=1000"
		out[path] = strip(all(path))
	}
	return out
}

// strip drops "id" and "links" everywhere.
func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			if k != "id" && k != "links" {
				m[k] = strip(e)
			}
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = strip(e)
		}
		return l
	}
	return v
}

// sameDirectory fails the test unless both services show the same
// directory through the API.
func sameDirectory(t *testing.T, a, b *service) {
	t.Helper()
	va, vb := directoryView(a, "acme-read"), directoryView(b, "acme-read")
	people := va["/api/xm/1/people?embed=roles,supervisors&limit=1000"].([]any)
	if len(people) == 0 {
		t.Fatal("the premises directory is empty")
	}
	for path, x := range va {
		y := vb[path]
		if !reflect.DeepEqual(x, y) {
			xj, _ := json.Marshal(x)
			yj, _ := json.Marshal(y)
			i := 0
			for i < len(xj) && i < len(yj) && xj[i] == yj[i] {
				i++
			}
			from := max(0, i-300)
			t.Errorf("%s differs at byte %d:\npremises: %.600s\nhosted:   %.600s", path, i, xj[from:], yj[from:])
		}
	}
	if len(va) != len(vb) {
		t.Errorf("premises shows %d lists, hosted %d", len(va), len(vb))
	}
}

// TestCloudSync copies a premises epicd's company to a hosted one with
// epic cloudsync, between the two stores both ways round, and keeps it
// in step after the premises directory changes.
func TestCloudSync(t *testing.T) {
	for _, c := range []struct{ premises, hosted backend }{
		{backends[0], backends[1]}, // premises SQLite, hosted PostgreSQL
		{backends[1], backends[0]}, // premises PostgreSQL, hosted SQLite
	} {
		t.Run("premises-"+c.premises.name+"-hosted-"+c.hosted.name, func(t *testing.T) {
			dir := t.TempDir()
			premises := newService(t, c.premises.db(t))
			premises.addUser("Acme", "acme-read", "reader")
			premises.epicd("apply", "--company", "Acme", writeArchive(t, dir, 300, 21, generate.Options{}))
			hosted := newService(t, c.hosted.db(t), "--batch-interval", "1s")
			hosted.addUser("Acme", "acme-read", "reader")
			hosted.start()
			cfg := cloudsyncConfig(t, premises)

			out, code := run(t, hosted.clientEnv("acme-up"), bins.epic, "cloudsync", "--config", cfg)
			if code != 0 || !strings.Contains(out, "COMPLETED") || !strings.Contains(out, fmt.Sprintf("schema version %d", premisesdb.SchemaMax)) {
				t.Fatalf("epic cloudsync: exit %d\n%s\nservice log:\n%s", code, out, hosted.log)
			}
			premises.start()
			sameDirectory(t, premises, hosted)
			premises.stop()

			// The premises directory changes; a second cloudsync brings
			// the hosted one in step again.
			premises.epicd("apply", "--company", "Acme",
				writeArchive(t, dir, 300, 21, generate.Options{ChangePercent: 2, AddPercent: 2, DropPercent: 1}))
			out, code = run(t, hosted.clientEnv("acme-up"), bins.epic, "cloudsync", "--config", cfg)
			if code != 0 {
				t.Fatalf("second epic cloudsync: exit %d\n%s", code, out)
			}
			j := hosted.newestJob("acme-up")
			changed := map[string]int{}
			for _, l := range j.Summary {
				changed[l.Synchronizer] = l.Inserted + l.Updated + l.RemovedByMirror
			}
			if changed["DS_USERS"] == 0 {
				t.Errorf("the second cloudsync changed no person: %+v", j.Summary)
			}
			premises.start()
			sameDirectory(t, premises, hosted)
			premises.stop()
			hosted.stop()
		})
	}
}

// TestCloudSyncRefusesUnknownCompany: a clear error, nothing uploaded.
func TestCloudSyncRefusesUnknownCompany(t *testing.T) {
	premises := newService(t, "")
	hosted := newService(t, "")
	hosted.start()
	cfg := cloudsyncConfig(t, premises)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `"Acme"`, `"Initech"`, 1)), 0o600)
	out, code := run(t, hosted.clientEnv("acme-up"), bins.epic, "cloudsync", "--config", cfg)
	if code != 255 || !strings.Contains(out, `has no company "Initech" (it has "Acme")`) {
		t.Errorf("exit %d\n%s", code, out)
	}
	var jobs list[job]
	if hosted.get("acme-up", "/api/xm/1/imports", &jobs); jobs.Total != 0 {
		t.Errorf("%d jobs on the service, want none", jobs.Total)
	}
}

// TestCloudSyncSpeed measures (and only measures: it asserts no time) a
// CloudSync of a premises company of EPIC_BENCH_CLOUDSYNC_USERS people on
// SQLite to a hosted service on PostgreSQL, end to end (read, archive,
// validate, pack, upload, apply, wait): the first copy, then a second one
// with nothing changed. It runs only when the variable is set; the
// figures go to docs/benchmarks.md ("CloudSync"). It is a test, not a
// Benchmark, because the harness it shares needs a *testing.T.
func TestCloudSyncSpeed(t *testing.T) {
	var n int
	if _, err := fmt.Sscan(os.Getenv("EPIC_BENCH_CLOUDSYNC_USERS"), &n); err != nil || n <= 0 {
		t.Skip("set EPIC_BENCH_CLOUDSYNC_USERS=100000 to measure")
	}
	premises := newService(t, "")
	start := time.Now()
	premises.epicd("apply", "--company", "Acme", writeArchive(t, t.TempDir(), n, 1, generate.Options{}))
	t.Logf("premises filled with %d people in %s", n, time.Since(start).Round(time.Millisecond))
	hosted := newService(t, pgForSpeed(t), "--batch-interval", "1s")
	hosted.start()
	cfg := cloudsyncConfig(t, premises)
	for _, round := range []string{"first copy", "nothing changed"} {
		start := time.Now()
		out, code := run(t, hosted.clientEnv("acme-up"), bins.epic, "cloudsync", "--config", cfg)
		took := time.Since(start)
		if code != 0 {
			t.Fatalf("cloudsync: exit %d\n%s\n%s", code, out, hosted.log)
		}
		t.Logf("CloudSync %s, %d people, end to end: %s\n%s", round, n, took.Round(time.Millisecond), out)
	}
	hosted.stop()
}

func pgForSpeed(t *testing.T) string { return backends[1].db(t) }
