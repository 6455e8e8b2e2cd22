package client

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/client/clienttest"
)

var fastRetry = Retry{Attempts: 4, Min: time.Millisecond, Max: 5 * time.Millisecond}

// testConfig is a configuration for the fake s, trusting its certificate.
func testConfig(t *testing.T, s *clienttest.Server) Config {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := s.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	return Config{Server: ServerConfig{URL: s.URL, CAFile: ca}, Auth: AuthConfig{Username: "epic-uploader", Password: "secret"}}
}

func newClient(t *testing.T, cfg Config, opts ...Option) *Client {
	t.Helper()
	c, err := New(cfg, append([]Option{WithRetry(fastRetry)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startFake(t *testing.T) *clienttest.Server {
	s := clienttest.Start()
	t.Cleanup(s.Close)
	return s
}

// testZip writes a small archive with a manifest and one DS file of n rows.
func testZip(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hr.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("manifest.xml")
	io.WriteString(w, "<manifest/>\n")
	w, _ = zw.Create("DS_USERS.csv")
	io.WriteString(w, "EXTERNAL_KEY\n")
	for i := range n {
		fmt.Fprintf(w, "E%d\n", i)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestVersionSendsUserAgent(t *testing.T) {
	s := startFake(t)
	c := newClient(t, testConfig(t, s))
	v, err := c.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "1.0.0" || len(v.ArchiveVersions) != 4 {
		t.Errorf("version answer: %+v", v)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].UserAgent != UserAgent() || !strings.HasPrefix(reqs[0].UserAgent, "epic/") {
		t.Errorf("requests: %+v, want one with User-Agent %s", reqs, UserAgent())
	}
}

func TestUntrustedCertificate(t *testing.T) {
	s := startFake(t)
	cfg := testConfig(t, s)
	cfg.Server.CAFile = ""
	c := newClient(t, cfg)
	_, err := c.Version(context.Background())
	var ce *CertError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CertError", err)
	}
	want := Fingerprint(s.Certificate().Raw)
	msg := err.Error()
	for _, w := range []string{"not trusted", want, "server.ca_file", "EPIC_CA_FILE", s.URL} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("the fake saw %d requests; an untrusted service must see none", n)
	}
}

func TestCAFileWithoutCertificate(t *testing.T) {
	s := startFake(t)
	cfg := testConfig(t, s)
	cfg.Server.CAFile = writeFile(t, "ca.pem", "not a certificate\n")
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "server.ca_file") || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("got %v, want an error naming server.ca_file", err)
	}
}

func TestGetRetries503(t *testing.T) {
	s := startFake(t)
	var logged []string
	c := newClient(t, testConfig(t, s), WithLogf(func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }))
	s.Set("fail503", "2")
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatalf("two 503s and then an answer: %v", err)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if len(logged) != 2 || !strings.Contains(logged[0], "503") {
		t.Errorf("logged %q, want two retries naming 503", logged)
	}

	s.Set("fail503", "10")
	_, _, err := c.Jobs(context.Background(), 0)
	if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "server error") || !strings.Contains(err.Error(), "the fake is told to fail") {
		t.Errorf("got %v, want a server error with the service's message", err)
	}
	if n := len(s.Requests()); n != 3+fastRetry.Attempts {
		t.Errorf("%d requests, want %d", n, 3+fastRetry.Attempts)
	}
}

func TestUploadNotRetriedAfterBodySent(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.CopyN(io.Discard, r.Body, 100) // the upload has begun...
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // ...and the connection drops
		}
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	(&clienttest.Server{Server: srv}).WriteCA(ca)
	c := newClient(t, Config{Server: ServerConfig{URL: srv.URL, CAFile: ca}, Auth: AuthConfig{Username: "u", Password: "p"}})
	_, err := c.Upload(context.Background(), testZip(t, 1000))
	if err == nil || !strings.Contains(err.Error(), "was not tried again") {
		t.Errorf("got %v, want an error saying the upload was not tried again", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the service saw %d uploads, want 1", n)
	}
}

func TestUploadRetriedWhenNothingSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	var tries int
	c := newClient(t, Config{Server: ServerConfig{URL: "https://" + addr}}, WithLogf(func(string, ...any) { tries++ }))
	_, err = c.Upload(context.Background(), testZip(t, 1))
	var ce *ConnError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConnError", err)
	}
	if !strings.Contains(err.Error(), "no connection to https://"+addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("%q does not name the URL and the cause", err)
	}
	if tries != fastRetry.Attempts-1 {
		t.Errorf("%d retries, want %d", tries, fastRetry.Attempts-1)
	}
}

func TestUploadTooLargeIsRefusedByLength(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 || r.ContentLength > 1000 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprintf(w, `{"code":413,"reason":"Request Entity Too Large","message":"archives are limited to 1000 bytes, this one has %d"}`, r.ContentLength)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	(&clienttest.Server{Server: srv}).WriteCA(ca)
	c := newClient(t, Config{Server: ServerConfig{URL: srv.URL, CAFile: ca}, Auth: AuthConfig{Username: "u", Password: "p"}})
	path := testZip(t, 5000)
	_, err := c.Upload(context.Background(), path)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "archives are limited to 1000 bytes") {
		t.Errorf("got %v, want ErrTooLarge with the service's message", err)
	}
}

func TestUnauthorized(t *testing.T) {
	s := startFake(t)
	cfg := testConfig(t, s)
	cfg.Auth.Password = "wrong"
	c := newClient(t, cfg)
	_, _, err := c.Jobs(context.Background(), 0)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("got %v, want ErrUnauthorized", err)
	}
	msg := err.Error()
	for _, w := range []string{`user "epic-uploader"`, "refused the login", "wrong username or password"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, "wrong\"") || strings.Contains(msg, "password \"wrong") {
		t.Errorf("%q shows the password", msg)
	}
}

func TestUploadAndWait(t *testing.T) {
	s := startFake(t)
	c := newClient(t, testConfig(t, s))
	ctx := context.Background()
	j, err := c.Upload(ctx, testZip(t, 7))
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != StatusQueued || j.Name != "hr.zip" || j.ID == "" || j.ClientVersion != UserAgent() {
		t.Errorf("queued job: %+v", j)
	}
	var seen []string
	j, err = c.Wait(ctx, j.ID, WaitOptions{Min: time.Millisecond, Progress: func(j *Job) { seen = append(seen, j.Status) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, " "); got != "PROCESSING COMPLETED" {
		t.Errorf("statuses seen: %s", got)
	}
	if len(j.Summary) != 1 || j.Summary[0].Synchronizer != "DS_USERS" || j.Summary[0].Read != 7 || j.Summary[0].Inserted != 7 {
		t.Errorf("summary: %+v", j.Summary)
	}
	if j.By == nil || j.By.TargetName != "epic-uploader" || j.FinishedAt.IsZero() || j.Manifest == nil || j.Manifest.Version != "1.3" {
		t.Errorf("job: %+v", j)
	}
	var rows int
	if err := c.Rows(ctx, j.ID, func(r RowResult) error {
		rows++
		if r.Outcome != "INSERTED" || r.File != "DS_USERS.csv" {
			t.Errorf("row %+v", r)
		}
		return nil
	}); err != nil || rows != 7 {
		t.Errorf("rows: %d, %v", rows, err)
	}
	var buf bytes.Buffer
	if _, err := c.ReportCSV(ctx, j.ID, &buf); err != nil || !strings.Contains(buf.String(), "DS_USERS,7,7,0") {
		t.Errorf("report: %q, %v", buf.String(), err)
	}
}

func TestUploadRejected(t *testing.T) {
	s := startFake(t)
	c := newClient(t, testConfig(t, s))
	notZip := writeFile(t, "hr.zip", "this is no zip")
	j, err := c.Upload(context.Background(), notZip)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("got %v, want ErrRejected", err)
	}
	if j == nil || j.Status != StatusFailed || len(j.Findings) != 1 || j.Findings[0].Code != "NOT_A_ZIP" {
		t.Errorf("job: %+v", j)
	}
}

func TestIncompatibleService(t *testing.T) {
	s := startFake(t)
	c := newClient(t, testConfig(t, s))
	ctx := context.Background()
	if _, err := c.CheckUpload(ctx, "1.3"); err != nil {
		t.Fatalf("compatible service: %v", err)
	}
	s.Set("versions", "1.0", "1.1")
	_, err := c.CheckUpload(ctx, "1.3")
	if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "the archive is version 1.3") || !strings.Contains(err.Error(), "accepts archive versions 1.0, 1.1") {
		t.Errorf("got %v, want a message naming 1.3 and 1.0, 1.1", err)
	}
	s.Set("versions", "1.3")
	s.Set("minclient", "99.0.0")
	_, err = c.CheckUpload(ctx, "1.3")
	if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "this epic is version "+ClientVersion()) || !strings.Contains(err.Error(), "needs epic 99.0.0 or newer") {
		t.Errorf("got %v, want a message naming both client versions", err)
	}
}

func TestJobsFollowPages(t *testing.T) {
	s := startFake(t)
	s.Set("pagesize", "2")
	c := newClient(t, testConfig(t, s))
	ctx := context.Background()
	var ids []string
	for range 5 {
		j, err := c.Upload(ctx, testZip(t, 1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	jobs, total, err := c.Jobs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 5 || len(jobs) != 5 || jobs[0].ID != ids[4] || jobs[4].ID != ids[0] {
		t.Errorf("got %d of %d jobs, want all 5 newest first", len(jobs), total)
	}
	jobs, _, err = c.Jobs(ctx, 3)
	if err != nil || len(jobs) != 3 {
		t.Errorf("limit 3: %d jobs, %v", len(jobs), err)
	}
	if string(jobs[0].Raw) == "" || !strings.Contains(string(jobs[0].Raw), `"transform":"EPIC"`) {
		t.Errorf("raw JSON not kept: %s", jobs[0].Raw)
	}
}

func TestUnknownJob(t *testing.T) {
	s := startFake(t)
	c := newClient(t, testConfig(t, s))
	_, err := c.Job(context.Background(), "no such/job")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `no import job "no such/job"`) {
		t.Errorf("got %v, want ErrNotFound with the service's message", err)
	}
}

func TestResolveKeepsCredentialsHome(t *testing.T) {
	c := newClient(t, Config{Server: ServerConfig{URL: "https://epic.example.com/prefix/"}})
	for ref, want := range map[string]string{
		"/api/xm/1/imports?offset=2":                "https://epic.example.com/prefix/api/xm/1/imports?offset=2",
		"/prefix/api/xm/1/imports?offset=2":         "https://epic.example.com/prefix/api/xm/1/imports?offset=2",
		"https://epic.example.com/prefix/api/x?a=b": "https://epic.example.com/prefix/api/x?a=b",
	} {
		u, err := c.resolve(ref)
		if err != nil || u.String() != want {
			t.Errorf("resolve(%q) = %v, %v; want %s", ref, u, err, want)
		}
	}
	if _, err := c.resolve("https://evil.example.com/api"); err == nil {
		t.Error("a link to another host was followed")
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		cmp  int
		ok   bool
	}{
		{"1.0.0", "1.0.0", 0, true},
		{"1.2.0", "1.10.0", -1, true},
		{"v2.0.0", "1.9.9", 1, true},
		{"epic/1.0.0", "1.0.0", 0, true},
		{"1.0.0-rc.1", "1.0.0", -1, true},
		{"1.0.0-rc.2", "1.0.0-rc.10", -1, true},
		{"0.1.0-dev", "0.1.0-dev", 0, true},
		{"1.0", "1.0.0", 0, true},
		{"1.0.0+abc", "1.0.0", 0, true},
		{"dev", "1.0.0", 0, false},
	}
	for _, tt := range tests {
		cmp, ok := CompareVersions(tt.a, tt.b)
		if cmp != tt.cmp || ok != tt.ok {
			t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d, %v", tt.a, tt.b, cmp, ok, tt.cmp, tt.ok)
		}
	}
}
