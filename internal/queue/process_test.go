package queue_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/cli"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/postgres"
	"github.com/epicsync/epic/internal/postgres/pgtest"
	"github.com/epicsync/epic/internal/sqlite"
)

// TestMain lets the test binary be epicd: with EPIC_QUEUE_TEST_EPICD=1 it
// runs the epicd command line instead of the tests, so the process tests
// run real `epicd batch run` processes without building a binary.
func TestMain(m *testing.M) {
	if os.Getenv("EPIC_QUEUE_TEST_EPICD") == "1" {
		os.Exit(cli.Epicd(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// epicd is an `epicd ARGS...` child process.
func epicd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "EPIC_QUEUE_TEST_EPICD=1")
	return cmd
}

var jobLine = regexp.MustCompile(`(?m)^(.+): job ([0-9a-f-]{36}) (\w+) \(`)

// TestTwoProcesses: two `epicd batch run` processes on one PostgreSQL
// database with many queued companies process every company exactly
// once: each company's newest job is applied once (every row INSERTED,
// none found already there), by one of the two.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dsn := pgtest.FreshDSN(t)
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newService(t, st)
	const companies = 40
	want := map[string]uuid.UUID{} // company name -> its newest job
	cos := map[string]*directory.Company{}
	for c := range companies {
		co := addCompany(t, st, fmt.Sprintf("Company %02d", c))
		cos[co.Name] = co
		older := intake(t, s, co, "old.zip", genZip(t, 100, int64(c)))
		newer := intake(t, s, co, "new.zip", genZip(t, 300, int64(c)))
		want[co.Name] = newest([]*directory.Job{older, newer}).ID
	}

	outs := make([]bytes.Buffer, 2)
	errs := make([]bytes.Buffer, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		cmd := epicd(t, "--db", dsn, "batch", "run")
		cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
		wg.Go(func() {
			<-start
			if err := cmd.Run(); err != nil {
				t.Errorf("epicd batch run %d: %v\n%s", i, err, &errs[i])
			}
		})
	}
	close(start)
	wg.Wait()

	by := map[string]int{} // company -> the process that applied it
	for i := range outs {
		n := 0
		for _, m := range jobLine.FindAllStringSubmatch(outs[i].String(), -1) {
			if p, dup := by[m[1]]; dup {
				t.Errorf("%s processed by process %d and process %d", m[1], p, i)
			}
			by[m[1]] = i
			if m[2] != want[m[1]].String() || m[3] != "COMPLETED" {
				t.Errorf("process %d: %s job %s %s, want its newest %s COMPLETED", i, m[1], m[2], m[3], want[m[1]])
			}
			n++
		}
		t.Logf("process %d applied %d companies' jobs", i, n)
	}
	for name, co := range cos {
		if _, ok := by[name]; !ok {
			t.Errorf("%s was processed by neither process", name)
		}
		js, err := st.Jobs(t.Context(), co.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			switch j.Status {
			case directory.JobCompleted:
				if j.ID != want[name] {
					t.Errorf("%s: job %s completed, want only %s", name, j.ID, want[name])
				}
				full := job(t, st, co, j.ID)
				for _, l := range full.Summary {
					if l.Inserted != l.Read {
						t.Errorf("%s: %s inserted %d of %d rows: applied more than once or on a changed directory", name, l.Synchronizer, l.Inserted, l.Read)
					}
				}
			case directory.JobSuperseded:
				if j.SupersededBy != want[name] {
					t.Errorf("%s: job %s superseded by %s, want %s", name, j.ID, j.SupersededBy, want[name])
				}
			default:
				t.Errorf("%s: job %s is %s", name, j.ID, j.Status)
			}
		}
		if got := people(t, st, co); got != 300 {
			t.Errorf("%s has %d people, want 300", name, got)
		}
	}
}

// TestKill9: `kill -9` of an `epicd batch run` during a large apply (20,000
// people) changes nothing; after a restart the job completes, and the
// directory equals a single clean apply of the same archive.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	data := genZip(t, 20000, 7)
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var (
				st   directory.Store
				args []string
				err  error
			)
			switch kind {
			case "sqlite":
				dir := t.TempDir()
				args = []string{"--data", dir}
				st, err = sqlite.Open(t.Context(), filepath.Join(dir, "epicd.db"))
			case "postgres":
				dsn := pgtest.FreshDSN(t)
				args = []string{"--db", dsn}
				st, err = postgres.Open(t.Context(), dsn)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			s := newService(t, st)
			co := addCompany(t, st, "Acme")
			j := intake(t, s, co, "hr.zip", data)

			// Kill the run while the job is PROCESSING; before the apply
			// commits, or the test proves nothing: try again sooner.
			killed := false
			for _, delay := range []time.Duration{700 * time.Millisecond, 300 * time.Millisecond, 100 * time.Millisecond, 0} {
				cmd := epicd(t, append(args, "batch", "run")...)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the job PROCESSING", func() bool { return job(t, st, co, j.ID).Status != directory.JobQueued })
				time.Sleep(delay)
				cmd.Process.Signal(syscall.SIGKILL)
				err := cmd.Wait()
				got := job(t, st, co, j.ID)
				if got.Status == directory.JobCompleted {
					t.Logf("the apply committed within %v of PROCESSING; killing sooner", delay)
					// Undo: a new company and a new upload.
					co = addCompany(t, st, fmt.Sprintf("Acme %v", delay))
					j = intake(t, s, co, "hr.zip", data)
					continue
				}
				if err == nil || !strings.Contains(err.Error(), "killed") {
					t.Fatalf("epicd batch run was not killed: %v\n%s", err, &out)
				}
				if got.Status != directory.JobProcessing {
					t.Fatalf("after kill -9 the job is %s, want PROCESSING", got.Status)
				}
				if n := people(t, st, co); n != 0 {
					t.Fatalf("after kill -9 mid-apply the company has %d people, want 0 (nothing applied)", n)
				}
				t.Logf("killed %v after PROCESSING", delay)
				killed = true
				break
			}
			if !killed {
				t.Fatalf("could not kill epicd batch run before its apply committed")
			}

			// Restart: the job is queued again and completes, once.
			cmd := epicd(t, append(args, "batch", "run")...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("epicd batch run after the kill: %v\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("1 interrupted jobs queued again")) || !bytes.Contains(out, []byte(j.ID.String()+" COMPLETED")) {
				t.Errorf("epicd batch run after the kill said:\n%s\nwant the job queued again and COMPLETED", out)
			}
			got := job(t, st, co, j.ID)
			if got.Status != directory.JobCompleted || got.Processed != got.Total || got.Name != "hr.zip" || got.By != "uploader" {
				t.Errorf("job after restart: %s %q by %q, %d of %d rows; want COMPLETED, every row", got.Status, got.Name, got.By, got.Processed, got.Total)
			}
			for _, l := range got.Summary {
				if l.Inserted != l.Read {
					t.Errorf("%s: %d inserted of %d: the killed run left something behind", l.Synchronizer, l.Inserted, l.Read)
				}
			}
			clean := addCompany(t, st, "Clean")
			intake(t, s, clean, "hr.zip", data)
			if res, err := s.RunBatch(context.Background(), clean.ID); err != nil || len(res.Jobs) != 1 {
				t.Fatalf("clean apply: %+v, %v", res, err)
			}
			if diff := gocmp.Diff(exported(t, st, clean), exported(t, st, co)); diff != "" {
				t.Errorf("directory after kill and restart differs from a clean apply (-clean +restarted):\n%s", firstLines(diff, 40))
			}
			if n := people(t, st, co); n != 20000 {
				t.Errorf("%d people, want 20000", n)
			}
		})
	}
}

func firstLines(s string, n int) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for i := 0; i < n && sc.Scan(); i++ {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
