package e2e_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/postgres/pgtest"
)

// list is the paginated list body of the API.
type list[T any] struct {
	Count int `json:"count"`
	Total int `json:"total"`
	Data  []T `json:"data"`
	Links struct {
		Self string `json:"self"`
		Next string `json:"next"`
	} `json:"links"`
}

// apiError is the JSON error body.
type apiError struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// newestJob returns the company's newest import job as login sees it.
func (s *service) newestJob(login string) job {
	s.t.Helper()
	var l list[job]
	if code := s.get(login, "/api/xm/1/imports", &l); code != 200 || len(l.Data) == 0 {
		s.t.Fatalf("GET imports: %d, %d jobs", code, len(l.Data))
	}
	return l.Data[0]
}

// TestNightlyPath is the whole mission through real binaries over HTTPS:
// a first upload with --wait, the directory read back through the API, a
// second night under mirror, the report as CSV, isolation between two
// companies, and a clean shutdown.
func TestNightlyPath(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newService(t, b.db(t), "--batch-interval", "1s")
		s.addUser("Acme", "acme-read", "reader")
		s.epicd("company", "create", "Globex")
		s.addUser("Globex", "globex-read", "reader")
		s.start()
		dir := t.TempDir()

		first := writeArchive(t, dir, 300, 7, generate.Options{})
		out, code := run(t, s.clientEnv("acme-up"), bins.epic, "file", first, "--wait")
		if code != 0 {
			t.Fatalf("epic file --wait: exit %d\n%s\nservice log:\n%s", code, out, s.log)
		}
		for _, want := range []string{"COMPLETED", "DS_USERS"} {
			if !strings.Contains(out, want) {
				t.Errorf("epic file --wait output lacks %q:\n%s", want, out)
			}
		}
		j := s.newestJob("acme-up")
		if j.Status != "COMPLETED" {
			t.Fatalf("job %s is %s", j.ID, j.Status)
		}

		var people list[map[string]any]
		if code := s.get("acme-read", "/api/xm/1/people?limit=100", &people); code != 200 {
			t.Fatalf("GET people: %d", code)
		}
		if people.Total != 300 || people.Count != 100 || len(people.Data) != 100 || people.Links.Next == "" {
			t.Errorf("people page: total %d count %d data %d next %q; want 300, 100, 100 and a next link",
				people.Total, people.Count, len(people.Data), people.Links.Next)
		}
		var globex list[map[string]any]
		if code := s.get("globex-read", "/api/xm/1/people", &globex); code != 200 || globex.Total != 0 {
			t.Errorf("Globex sees %d people (status %d), want 0", globex.Total, code)
		}

		// A user of another company sees Acme's job exactly as a job that
		// does not exist.
		var other, none apiError
		c1 := s.get("globex-read", "/api/xm/1/imports/"+j.ID, &other)
		missing := "0190f0c4-0000-7000-8000-000000000000"
		c2 := s.get("globex-read", "/api/xm/1/imports/"+missing, &none)
		if c1 != 404 || c2 != 404 || other.Reason != none.Reason ||
			strings.ReplaceAll(other.Message, j.ID, "ID") != strings.ReplaceAll(none.Message, missing, "ID") {
			t.Errorf("another company's job: %d %+v; a missing job: %d %+v; want the same 404", c1, other, c2, none)
		}

		// The next night: 1 % changed, added and missing, under mirror.
		second := writeArchive(t, dir, 300, 7, generate.Options{ChangePercent: 1, AddPercent: 1, DropPercent: 1})
		out, code = run(t, s.clientEnv("acme-up"), bins.epic, "file", second, "--wait")
		if code != 0 {
			t.Fatalf("second epic file --wait: exit %d\n%s", code, out)
		}
		j2 := s.newestJob("acme-up")
		var users *struct{ updated, removed, unchanged int }
		for _, l := range j2.Summary {
			if l.Synchronizer == "DS_USERS" {
				users = &struct{ updated, removed, unchanged int }{l.Updated, l.RemovedByMirror, l.Unchanged}
			}
		}
		if j2.ID == j.ID || j2.Status != "COMPLETED" || users == nil || users.updated == 0 || users.removed == 0 || users.unchanged == 0 {
			t.Errorf("second night: job %s %s, DS_USERS %+v; want a new COMPLETED job with updated, removed and unchanged people", j2.ID, j2.Status, users)
		}

		out, code = run(t, s.clientEnv("acme-up"), bins.epic, "version")
		if code != 0 || !strings.Contains(out, "compatible") {
			t.Errorf("epic version against the service: exit %d\n%s", code, out)
		}

		out, code = run(t, s.clientEnv("acme-up"), bins.epic, "report", j2.ID, "--csv")
		if code != 0 || !strings.Contains(out, "DS_USERS") {
			t.Errorf("epic report --csv: exit %d\n%s", code, out)
		}
		s.stop()
	})
}

// TestKillDuringBatch kills `epicd serve` with SIGKILL while it applies
// a job; after a restart the job completes, once, and the directory is
// exactly what one clean apply of the archive makes.
func TestKillDuringBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 20,000 people twice")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		s := newService(t, b.db(t), "--batch-interval", "1s")
		s.start()
		arc := writeArchive(t, t.TempDir(), 20000, 11, generate.Options{})
		if out, code := run(t, s.clientEnv("acme-up"), bins.epic, "file", arc); code != 0 {
			t.Fatalf("epic file: exit %d\n%s", code, out)
		}
		id := s.newestJob("acme-up").ID
		s.waitProcessing("acme-up", id)
		time.Sleep(time.Duration(200+rand.IntN(1500)) * time.Millisecond)
		s.kill()

		s.start()
		j := s.waitJob("acme-up", id, 5*time.Minute)
		if j.Status != "COMPLETED" {
			t.Fatalf("after the restart the job is %s, want COMPLETED", j.Status)
		}
		var jobs list[job]
		s.get("acme-up", "/api/xm/1/imports", &jobs)
		if jobs.Total != 1 {
			t.Errorf("%d jobs after the restart, want 1", jobs.Total)
		}
		s.stop()

		// The same archive applied once into a new embedded store.
		ref := t.TempDir()
		if out, code := run(t, nil, bins.epicd, "--data", ref, "company", "create", "Acme"); code != 0 {
			t.Fatal(out)
		}
		if out, code := run(t, nil, bins.epicd, "--data", ref, "apply", "--company", "Acme", arc); code != 0 {
			t.Fatalf("reference apply: exit %d\n%s", code, out)
		}
		got, want := filepath.Join(t.TempDir(), "got"), filepath.Join(t.TempDir(), "want")
		s.epicd("export", "--company", "Acme", "-o", got)
		if out, code := run(t, nil, bins.epicd, "--data", ref, "export", "--company", "Acme", "-o", want); code != 0 {
			t.Fatal(out)
		}
		sameFiles(t, got, want)
	})
}

// sameFiles fails the test unless folders a and b hold the same files
// with the same bytes.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	entries, err := os.ReadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadDir(a)
	if len(got) != len(entries) {
		t.Errorf("%s has %d files, %s has %d", a, len(got), b, len(entries))
	}
	for _, e := range entries {
		x, err1 := os.ReadFile(filepath.Join(a, e.Name()))
		y, err2 := os.ReadFile(filepath.Join(b, e.Name()))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs (%v, %v): %d bytes vs %d", e.Name(), err1, err2, len(x), len(y))
		}
	}
}

// upload posts the archive at path as login and returns the status code
// and the body.
func (s *service) upload(login, path string) (int, []byte) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		s.t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", s.url+"/api/xm/1/uploads/epic-v1", &body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth(login, "pw-"+login)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Errorf("upload: %v", err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestBurst sends 50 uploads of one company at once; one batch run then
// applies exactly one of them, the newest, and the other 49 end
// SUPERSEDED naming it.
func TestBurst(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newService(t, b.db(t), "--batch-interval", "0")
		s.start()
		arc := writeArchive(t, t.TempDir(), 50, 3, generate.Options{})
		var wg sync.WaitGroup
		codes := make([]int, 50)
		for i := range codes {
			wg.Go(func() { codes[i], _ = s.upload("acme-up", arc) })
		}
		wg.Wait()
		for i, c := range codes {
			if c != 202 {
				t.Fatalf("upload %d: status %d, want 202", i, c)
			}
		}
		s.epicd("batch", "run")
		var jobs list[job]
		s.get("acme-up", "/api/xm/1/imports?limit=100", &jobs)
		if jobs.Total != 50 {
			t.Fatalf("%d jobs, want 50", jobs.Total)
		}
		newest := jobs.Data[0]
		done, superseded := 0, 0
		for _, j := range jobs.Data {
			switch {
			case j.Status == "COMPLETED":
				done++
			case j.Status == "SUPERSEDED" && j.SupersededBy == newest.ID:
				superseded++
			default:
				t.Errorf("job %s: %s superseded by %q (newest %s)", j.ID, j.Status, j.SupersededBy, newest.ID)
			}
		}
		if done != 1 || superseded != 49 || newest.Status != "COMPLETED" {
			t.Errorf("%d COMPLETED (newest: %s), %d SUPERSEDED by the newest; want 1 (the newest) and 49", done, newest.Status, superseded)
		}
		s.stop()
	})
}

// TestBadUploads: a zip bomb, a file that is not a zip and no file part
// are refused at intake with clear messages; wrong passwords and unknown
// users get 401.
func TestBadUploads(t *testing.T) {
	s := newService(t, "", "--batch-interval", "0")
	s.epicd("company", "create", "Initech", "--no-epic")
	s.addUser("Initech", "initech-up", "epic-uploader")
	s.start()
	dir := t.TempDir()

	// A company not enabled for EPIC is refused, and told so.
	ok := writeArchive(t, dir, 5, 1, generate.Options{})
	if code, body := s.upload("initech-up", ok); code != 403 || !strings.Contains(string(body), "not enabled") {
		t.Errorf("upload for a company without EPIC: %d %s; want 403 saying it is not enabled", code, body)
	}

	bomb := filepath.Join(dir, "bomb.zip")
	f, err := os.Create(bomb)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("DS_USERS.csv")
	zeros := make([]byte, 1<<20)
	for range 1200 { // 1.2 GiB of zeros: past the per-entry limit and the ratio limit
		w.Write(zeros)
	}
	zw.Close()
	f.Close()
	code, body := s.upload("acme-up", bomb)
	if code != 400 || !strings.Contains(string(body), "FAILED") {
		t.Errorf("zip bomb: %d %s; want 400 with a FAILED job", code, body)
	}

	junk := filepath.Join(dir, "junk.zip")
	os.WriteFile(junk, []byte("USER_ID,FIRST_NAME\nx,y\n"), 0o600)
	code, body = s.upload("acme-up", junk)
	if code != 400 || !strings.Contains(strings.ToLower(string(body)), "zip") {
		t.Errorf("not a zip: %d %s; want 400 saying it is not a zip", code, body)
	}

	req, _ := http.NewRequest("POST", s.url+"/api/xm/1/uploads/epic-v1", strings.NewReader("nothing"))
	req.Header.Set("Content-Type", "text/plain")
	req.SetBasicAuth("acme-up", "pw-acme-up")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "file") {
		t.Errorf("no file part: %d %s; want 400 naming the file part", resp.StatusCode, b)
	}

	for _, who := range [][2]string{{"acme-up", "wrong"}, {"nobody", "pw"}} {
		req, _ := http.NewRequest("GET", s.url+"/api/xm/1/imports", nil)
		req.SetBasicAuth(who[0], who[1])
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !regexp.MustCompile(`"code":\s*401`).Match(b) {
			t.Errorf("%s with a bad password: %d %s; want a 401 JSON error", who[0], resp.StatusCode, b)
		}
	}
	out, code2 := run(t, append(s.clientEnv("acme-up"), "EPIC_PASSWORD=wrong"), bins.epic, "jobs")
	if code2 != 255 {
		t.Errorf("epic jobs with a wrong password: exit %d, want 255\n%s", code2, out)
	}
	s.stop()
}

// TestPostgresRestart restarts PostgreSQL under a running service while
// it applies a job: the service says so in its log, recovers, and the
// job completes.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	dsn, restart := privatePostgres(t)
	s := newService(t, dsn, "--batch-interval", "1s")
	s.start()
	arc := writeArchive(t, t.TempDir(), 30000, 5, generate.Options{}) // an apply of seconds, so the restart lands inside it
	if out, code := run(t, s.clientEnv("acme-up"), bins.epic, "file", arc); code != 0 {
		t.Fatalf("epic file: exit %d\n%s", code, out)
	}
	id := s.newestJob("acme-up").ID
	s.waitProcessing("acme-up", id)
	restart(2 * time.Second)
	j := s.waitJob("acme-up", id, 3*time.Minute)
	if j.Status != "COMPLETED" {
		t.Errorf("after the PostgreSQL restart the job is %s, want COMPLETED\n%s", j.Status, s.log)
	}
	if log := s.log.String(); !strings.Contains(log, "queued again") || !strings.Contains(log, "recovered: batch runs succeed again") {
		t.Errorf("the service log does not say it queued the job again and recovered:\n%s", s.log)
	}
	s.stop()
}

// TestUploadsDuringBatch: uploads that arrive while a batch run applies a
// large job (of the same company and of another) wait for the next run,
// and every one of them is applied.
func TestUploadsDuringBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 20,000 people")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		s := newService(t, b.db(t), "--batch-interval", "1s")
		s.epicd("company", "create", "Globex")
		s.addUser("Globex", "globex-up", "epic-uploader")
		s.addUser("Acme", "acme-read", "reader")
		// Acme's second archive removes 20,000 of 20,000 people: past the
		// safety limits, which this test is not about.
		s.epicd("company", "limits", "Acme", "--off")
		s.start()
		dir := t.TempDir()
		big := writeArchive(t, dir, 20000, 21, generate.Options{})
		if code, body := s.upload("acme-up", big); code != 202 {
			t.Fatalf("upload: %d %s", code, body)
		}
		first := s.newestJob("acme-up").ID
		s.waitProcessing("acme-up", first)
		small := writeArchive(t, dir, 100, 22, generate.Options{})
		if code, body := s.upload("acme-up", small); code != 202 {
			t.Fatalf("upload during the batch: %d %s", code, body)
		}
		if code, body := s.upload("globex-up", small); code != 202 {
			t.Fatalf("upload of another company during the batch: %d %s", code, body)
		}
		second, globex := s.newestJob("acme-up").ID, s.newestJob("globex-up").ID
		for _, c := range []struct{ login, id string }{{"acme-up", first}, {"acme-up", second}, {"globex-up", globex}} {
			if j := s.waitJob(c.login, c.id, 3*time.Minute); j.Status != "COMPLETED" {
				t.Errorf("job %s of %s: %s, want COMPLETED", c.id, c.login, j.Status)
			}
		}
		// The second archive of Acme, applied last under mirror, is what
		// Acme has now: 100 people.
		var people list[map[string]any]
		if code := s.get("acme-read", "/api/xm/1/people?limit=1", &people); code != 200 || people.Total != 100 {
			t.Errorf("Acme has %d people after its second job (status %d), want 100", people.Total, code)
		}
		s.stop()
	})
}

// TestTwoServicesOnePostgres runs two `epicd serve` processes on one
// PostgreSQL database: every company's job is applied exactly once, by
// one of them.
func TestTwoServicesOnePostgres(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	a := newService(t, dsn, "--batch-interval", "1s")
	companies := []string{"Acme"}
	for i := range 7 {
		name := fmt.Sprintf("Co%d", i)
		a.epicd("company", "create", name)
		a.addUser(name, "up-"+name, "epic-uploader")
		companies = append(companies, name)
	}
	b := &service{t: t, data: t.TempDir(), db: dsn, listen: freePort(t)}
	b.url, b.ca = "https://"+b.listen, filepath.Join(b.data, "cert.pem")
	b.args = []string{"serve", "--listen", b.listen, "--batch-interval", "1s"}
	a.start()
	b.start()
	arc := writeArchive(t, t.TempDir(), 2000, 31, generate.Options{})
	ids := map[string]string{}
	for i, co := range companies {
		login := "up-" + co
		if co == "Acme" {
			login = "acme-up"
		}
		s := a
		if i%2 == 1 {
			s = b
		}
		if code, body := s.upload(login, arc); code != 202 {
			t.Fatalf("upload for %s: %d %s", co, code, body)
		}
		ids[login] = s.newestJob(login).ID
	}
	for login, id := range ids {
		if j := a.waitJob(login, id, 3*time.Minute); j.Status != "COMPLETED" {
			t.Errorf("%s: job %s is %s", login, id, j.Status)
		}
	}
	// Each job was applied by exactly one service, once.
	logs := a.log.String() + b.log.String()
	for login, id := range ids {
		if n := regexp.MustCompile(`msg=applying company=\S+ job=`+id).FindAllStringIndex(logs, -1); len(n) != 1 {
			t.Errorf("%s: job %s was applied %d times, want 1", login, id, len(n))
		}
	}
	t.Logf("service A applied %d jobs, service B %d", strings.Count(a.log.String(), "msg=applying"), strings.Count(b.log.String(), "msg=applying"))
	a.stop()
	b.stop()
}

// TestSafetyGate: an archive that would remove most people is HELD with
// nothing changed; `epic approve` by a company administrator queues it
// again and the next batch run applies it.
func TestSafetyGate(t *testing.T) {
	s := newService(t, "", "--batch-interval", "1s")
	s.addUser("Acme", "acme-admin", "company-admin")
	s.addUser("Acme", "acme-read", "reader")
	s.start()
	dir := t.TempDir()
	if out, code := run(t, s.clientEnv("acme-up"), bins.epic, "file", writeArchive(t, dir, 100, 41, generate.Options{}), "--wait"); code != 0 {
		t.Fatalf("first upload: exit %d\n%s", code, out)
	}
	out, code := run(t, s.clientEnv("acme-up"), bins.epic, "file", writeArchive(t, dir, 40, 41, generate.Options{}), "--wait")
	if code != 3 || !strings.Contains(out, "HELD") {
		t.Fatalf("an archive removing 60 of 100 people: exit %d, want 3 and HELD\n%s", code, out)
	}
	held := s.newestJob("acme-up")
	var people list[map[string]any]
	if s.get("acme-read", "/api/xm/1/people?limit=1", &people); people.Total != 100 {
		t.Errorf("after the HELD job the company has %d people, want 100 (nothing changed)", people.Total)
	}
	if out, code := run(t, s.clientEnv("acme-up"), bins.epic, "approve", held.ID); code == 0 {
		t.Errorf("an uploader approved a HELD job:\n%s", out)
	}
	if out, code := run(t, s.clientEnv("acme-admin"), bins.epic, "approve", held.ID); code != 0 {
		t.Fatalf("epic approve: exit %d\n%s", code, out)
	}
	if j := s.waitJob("acme-up", held.ID, time.Minute); j.Status != "COMPLETED" {
		t.Errorf("the approved job is %s, want COMPLETED", j.Status)
	}
	if s.get("acme-read", "/api/xm/1/people?limit=1", &people); people.Total != 40 {
		t.Errorf("after the approved job the company has %d people, want 40", people.Total)
	}
	s.stop()
}
