package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/postgres/pgtest"
)

// bins holds the epic and epicd binaries TestMain builds once.
var bins struct {
	epic, epicd string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "epic-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.epic, bins.epicd = filepath.Join(dir, "epic"), filepath.Join(dir, "epicd")
	for bin, pkg := range map[string]string{bins.epic: "./cmd/epic", bins.epicd: "./cmd/epicd"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// backend is where a service keeps its data: SQLite in its data folder,
// or a PostgreSQL database.
type backend struct {
	name string
	db   func(t *testing.T) string // "" for SQLite
}

var backends = []backend{
	{"sqlite", func(*testing.T) string { return "" }},
	{"postgres", func(t *testing.T) string { return pgtest.FreshDSN(t) }},
}

func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// service is one running `epicd serve` process.
type service struct {
	t      *testing.T
	data   string
	db     string
	listen string
	url    string
	ca     string
	args   []string
	cmd    *exec.Cmd
	log    *syncBuffer
	done   chan error
	client *http.Client
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reader test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort returns a loopback address nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newService prepares a service on a fresh data folder (and database
// when db is not empty) with company Acme and its uploader; start runs it.
func newService(t *testing.T, db string, extra ...string) *service {
	t.Helper()
	s := &service{t: t, data: t.TempDir(), db: db, listen: freePort(t)}
	s.url = "https://" + s.listen
	s.ca = filepath.Join(s.data, "cert.pem")
	s.args = append([]string{"serve", "--listen", s.listen}, extra...)
	s.epicd("company", "create", "Acme")
	s.addUser("Acme", "acme-up", "epic-uploader")
	return s
}

// storeArgs are the flags that point epicd at this service's data.
func (s *service) storeArgs() []string {
	a := []string{"--data", s.data}
	if s.db != "" {
		a = append(a, "--db", s.db)
	}
	return a
}

// epicd runs an epicd admin command on the service's store and returns
// its standard output; it fails the test unless the command exits 0.
func (s *service) epicd(args ...string) string {
	s.t.Helper()
	out, code := run(s.t, nil, bins.epicd, append(s.storeArgs(), args...)...)
	if code != 0 {
		s.t.Fatalf("epicd %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// addUser adds login (password "pw-"+login) to company.
func (s *service) addUser(company, login string, roles ...string) {
	s.t.Helper()
	pw := filepath.Join(s.t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("pw-"+login+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	args := []string{"user", "add", "--company", company, "--user", login, "--password-file", pw}
	for _, r := range roles {
		args = append(args, "--role", r)
	}
	s.epicd(args...)
}

// start runs `epicd serve` and waits until it answers /healthz over
// HTTPS with the certificate it made.
func (s *service) start() {
	s.t.Helper()
	s.log = &syncBuffer{}
	s.cmd = exec.Command(bins.epicd, append(s.storeArgs(), s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func(cmd *exec.Cmd, done chan error) { done <- cmd.Wait() }(s.cmd, s.done)
	s.t.Cleanup(s.kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if s.client == nil {
			if pem, err := os.ReadFile(s.ca); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pem) {
					s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
						TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
				}
			}
		}
		if s.client != nil {
			resp, err := s.client.Get(s.url + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
		}
		select {
		case err := <-s.done:
			s.t.Fatalf("epicd serve exited before answering: %v\n%s", err, s.log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("epicd serve did not answer /healthz within 30 s\n%s", s.log)
		}
	}
}

// kill stops the process with SIGKILL, if it runs.
func (s *service) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// stop sends SIGTERM and fails the test unless the service exits 0
// within 30 s.
func (s *service) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("epicd serve after SIGTERM: %v\n%s", err, s.log)
		}
	case <-time.After(30 * time.Second):
		s.t.Errorf("epicd serve did not stop within 30 s of SIGTERM\n%s", s.log)
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// clientEnv is the environment that points epic at the service as login.
func (s *service) clientEnv(login string) []string {
	return []string{"EPIC_URL=" + s.url, "EPIC_USER=" + login, "EPIC_PASSWORD=pw-" + login, "EPIC_CA_FILE=" + s.ca}
}

// get fetches path as login and decodes the JSON body into v (when not
// nil); it returns the status code.
func (s *service) get(login, path string, v any) int {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(login, "pw-"+login)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			s.t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, body)
		}
	}
	return resp.StatusCode
}

// job is the part of the import job JSON the tests read.
type job struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	SupersededBy string `json:"supersededBy"`
	TotalCount   int    `json:"totalCount"`
	Summary      []struct {
		Synchronizer    string `json:"synchronizer"`
		Read            int    `json:"read"`
		Inserted        int    `json:"inserted"`
		Updated         int    `json:"updated"`
		Unchanged       int    `json:"unchanged"`
		RemovedByMirror int    `json:"removedByMirror"`
		Failed          int    `json:"failed"`
	} `json:"summary"`
}

// waitJob polls the job until it leaves QUEUED and PROCESSING.
func (s *service) waitJob(login, id string, limit time.Duration) job {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var j job
		if code := s.get(login, "/api/xm/1/imports/"+id, &j); code != 200 {
			s.t.Fatalf("GET import %s: %d", id, code)
		}
		if j.Status != "QUEUED" && j.Status != "PROCESSING" {
			return j
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s still %s after %v\n%s", id, j.Status, limit, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitProcessing waits until a batch run applies the job.
func (s *service) waitProcessing(login, id string) {
	s.t.Helper()
	eventually(s.t, time.Minute, "job "+id+" PROCESSING", func() bool {
		var j job
		s.get(login, "/api/xm/1/imports/"+id, &j)
		return j.Status == "PROCESSING"
	})
}

// run runs bin with args and extra environment and returns its combined
// output and exit code.
func run(t *testing.T, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return string(out), 0
}

// writeArchive writes a generated archive of n people (mirror=Y) to a
// zip in dir and returns its path.
func writeArchive(t *testing.T, dir string, n int, seed int64, variant generate.Options) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("people-%d-%d-%g.zip", n, seed, variant.ChangePercent+variant.AddPercent+variant.DropPercent))
	m := archive.DefaultManifest()
	m.Mirror = true
	variant.Users, variant.Seed, variant.Manifest = n, seed, m
	if _, err := generate.WriteZip(path, variant); err != nil {
		t.Fatal(err)
	}
	return path
}

// privatePostgres starts a PostgreSQL cluster of the test's own on a free
// loopback port (so the test may restart it) and returns its DSN and a
// function that restarts it. It needs the server binaries and, as root,
// the postgres user; it skips (or fails under EPIC_TEST_DISALLOW_SKIP=1)
// without them.
func privatePostgres(t *testing.T) (dsn string, restart func(down time.Duration)) {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("EPIC_TEST_DISALLOW_SKIP") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		skip("no PostgreSQL server binaries under /usr/lib/postgresql")
	}
	pgbin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "epic-e2e-pg")
	if err != nil {
		t.Fatal(err)
	}
	var as []string // run as the postgres user when root
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skip("running as root and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		as = []string{"runuser", "-u", "postgres", "--"}
	}
	pg := func(tool string, args ...string) {
		t.Helper()
		argv := append(append([]string{}, as...), append([]string{filepath.Join(pgbin, tool)}, args...)...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	data := filepath.Join(dir, "data")
	pg("initdb", "-D", data, "--auth=trust", "-U", "postgres")
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	opts := "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
	start := func() { pg("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-o", opts, "start") }
	stop := func() { pg("pg_ctl", "-D", data, "-m", "fast", "-w", "stop") }
	start()
	t.Cleanup(func() {
		argv := append(append([]string{}, as...), filepath.Join(pgbin, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		_ = exec.Command(argv[0], argv[1:]...).Run()
		os.RemoveAll(dir)
	})
	return "postgres://postgres@" + addr + "/postgres?sslmode=disable", func(down time.Duration) {
		stop()
		time.Sleep(down)
		start()
	}
}

// eventually retries cond every 100 ms until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v", what, limit)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
