package api_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/api"
	"github.com/epicsync/epic/internal/directory"
)

// fakeIntake stands in for the queue in these unit tests: it reads the
// archive whole and queues a job, or fails one that does not start like
// a zip.
type fakeIntake struct {
	mu   sync.Mutex
	got  []byte
	name string
	by   string
	ua   string
}

func (f *fakeIntake) Intake(ctx context.Context, co *directory.Company, name, by, ua string, r io.Reader) (*directory.Job, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	f.mu.Lock()
	f.got, f.name, f.by, f.ua = b, name, by, ua
	f.mu.Unlock()
	j := &directory.Job{ID: uuid.New(), CompanyID: co.ID, Name: name, By: by, ClientVersion: ua, Status: directory.JobQueued,
		Started: time.Now(), Updated: time.Now()}
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		j.Status = directory.JobFailed
		j.Details = []directory.Detail{{Event: "NOT_A_ZIP", Status: "FAILURE", Level: "ARCHIVE", Message: name + " is not a zip file"}}
		return j, fmt.Errorf("%s: %w", name, api.ErrInvalidArchive)
	}
	return j, nil
}

func form(t testing.TB, part string, content []byte) (string, *bytes.Buffer) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("comment", "nightly")
	w, err := mw.CreateFormFile(part, `C:\exports\hr.zip`)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	mw.Close()
	return mw.FormDataContentType(), &b
}

func TestUpload(t *testing.T) {
	st := openSQLite(t)
	seed(t, st)
	fake := &fakeIntake{}
	srv := httptest.NewServer(api.New(api.Config{Store: st, Intake: fake, MaxUpload: 1 << 16}))
	defer srv.Close()
	up := client{t: t, url: srv.URL, login: "uploader", pass: password}
	zip := append([]byte("PK\x03\x04"), bytes.Repeat([]byte("z"), 1000)...)

	t.Run("Accepted", func(t *testing.T) {
		ct, body := form(t, "file", zip)
		req, _ := http.NewRequest("POST", srv.URL+"/api/xm/1/uploads/epic-v1", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("User-Agent", "epic/1.0.0")
		req.SetBasicAuth("uploader", password)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 202 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		j := resp{body: b}.json(t)
		if j["status"] != "QUEUED" || j["name"] != "hr.zip" || j["clientVersion"] != "epic/1.0.0" ||
			j["by"].(map[string]any)["targetName"] != "uploader" {
			t.Errorf("job = %s", b)
		}
		if !bytes.Equal(fake.got, zip) || fake.by != "uploader" {
			t.Errorf("intake got %d bytes by %q", len(fake.got), fake.by)
		}
	})
	t.Run("NoFilePart", func(t *testing.T) {
		ct, body := form(t, "archive", zip)
		wantError(t, up.do("POST", "/api/xm/1/uploads/epic-v1", body, ct), 400, `"file"`)
	})
	t.Run("NotMultipart", func(t *testing.T) {
		wantError(t, up.do("POST", "/api/xm/1/uploads/epic-v1", bytes.NewReader(zip), "application/zip"), 400, "multipart/form-data")
	})
	t.Run("NotZip", func(t *testing.T) {
		ct, body := form(t, "file", []byte("name,value\n"))
		m := wantError(t, up.do("POST", "/api/xm/1/uploads/epic-v1", body, ct), 400, "invalid", "import-messages")
		job, _ := m["job"].(map[string]any)
		if job == nil || job["status"] != "FAILED" || len(m["findings"].([]any)) != 1 {
			t.Errorf("error body without the FAILED job and its findings: %v", m)
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		ct, body := form(t, "file", bytes.Repeat([]byte("x"), 1<<17))
		wantError(t, up.do("POST", "/api/xm/1/uploads/epic-v1", body, ct), 413, "larger")
	})
	t.Run("NotEnabled", func(t *testing.T) {
		off := client{t: t, url: srv.URL, login: "off-admin", pass: password}
		ct, body := form(t, "file", zip)
		wantError(t, off.do("POST", "/api/xm/1/uploads/epic-v1", body, ct), 403, "not enabled for EPIC")
	})
}

// notEnabledIntake fails as the queue does for a company that is not
// enabled, with the queue's own sentinel.
type notEnabledIntake struct{ err error }

func (n notEnabledIntake) Intake(context.Context, *directory.Company, string, string, string, io.Reader) (*directory.Job, error) {
	return nil, fmt.Errorf("intake: %w", n.err)
}

func TestUploadErrorsFromConfig(t *testing.T) {
	st := openSQLite(t)
	seed(t, st)
	queueErr := errors.New("queue: company not enabled")
	srv := httptest.NewServer(api.New(api.Config{Store: st, Intake: notEnabledIntake{queueErr}, ErrNotEnabled: queueErr}))
	defer srv.Close()
	ct, body := form(t, "file", []byte("PK\x03\x04"))
	up := client{t: t, url: srv.URL, login: "uploader", pass: password}
	wantError(t, up.do("POST", "/api/xm/1/uploads/epic-v1", body, ct), 403, "not enabled for EPIC")
}

// TestSlowClients: a client that trickles its headers or stalls in its
// upload holds only its own connection, and is cut off.
func TestSlowClients(t *testing.T) {
	st := openSQLite(t)
	seed(t, st)
	h := api.New(api.Config{Store: st, Intake: &fakeIntake{}, UploadIdleTimeout: 300 * time.Millisecond})
	srv := httptest.NewUnstartedServer(h)
	srv.Config = api.NewServer(h, nil)
	srv.Config.ReadHeaderTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	// One connection trickles headers, another stalls in its upload.
	slowHeaders, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slowHeaders.Close()
	fmt.Fprintf(slowHeaders, "GET /api/xm/1/people HTTP/1.1\r\nHost: x\r\n")

	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	ct, body := form(t, "file", bytes.Repeat([]byte("z"), 5000))
	req, _ := http.NewRequest("POST", srv.URL+"/api/xm/1/uploads/epic-v1", nil)
	req.Header.Set("Content-Type", ct)
	req.SetBasicAuth("uploader", password)
	req.ContentLength = int64(body.Len())
	var head bytes.Buffer
	req.Header.Set("Content-Length", fmt.Sprint(body.Len()))
	fmt.Fprintf(&head, "POST /api/xm/1/uploads/epic-v1 HTTP/1.1\r\nHost: x\r\n")
	req.Header.Write(&head)
	head.WriteString("\r\n")
	stalled.Write(head.Bytes())
	stalled.Write(body.Bytes()[:body.Len()/2]) // and then nothing

	// Meanwhile others are served.
	reader := client{t: t, url: srv.URL, login: "reader", pass: password}
	for range 20 {
		if r := reader.get("/api/xm/1/people?limit=5"); r.code != 200 {
			t.Fatalf("another client: %d %s", r.code, r.body)
		}
	}

	// Both slow connections are closed by the server within a few
	// timeouts; the stalled upload hears 408 if it still listens.
	for name, c := range map[string]net.Conn{"trickling headers": slowHeaders, "stalled upload": stalled} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(bufio.NewReader(c))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: the server kept the connection open", name)
			continue
		}
		if name == "stalled upload" && len(got) > 0 && !bytes.Contains(got, []byte("408")) {
			t.Errorf("stalled upload answered %q, want 408", got)
		}
	}
}
