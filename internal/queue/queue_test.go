package queue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
	"github.com/epicsync/epic/internal/queue"
)

// TestBurst: 50 uploads of one company at once; one batch run applies
// exactly the newest and supersedes the 49 others, naming it.
func TestBurst(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := addCompany(t, s.Store, "Acme")
		const n = 50
		jobs := make([]*directory.Job, n)
		zips := make([][]byte, n)
		for i := range zips {
			zips[i] = genZip(t, 10+i, 1) // upload i has 10+i people
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				jobs[i], errs[i] = s.Intake(context.Background(), co, fmt.Sprintf("upload-%02d.zip", i), "uploader", "epic/test", bytes.NewReader(zips[i]))
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Intake %d: %v", i, err)
			}
			if jobs[i].Status != directory.JobQueued {
				t.Fatalf("Intake %d: status %s, want QUEUED", i, jobs[i].Status)
			}
		}
		want := newest(jobs)

		res, err := s.RunBatch(t.Context(), uuid.Nil)
		if err != nil {
			t.Fatalf("RunBatch: %v", err)
		}
		if len(res.Jobs) != 1 || res.Jobs[0].ID != want.ID || res.Superseded != n-1 {
			t.Fatalf("RunBatch applied %d jobs, superseded %d; want exactly the newest %s and %d superseded", len(res.Jobs), res.Superseded, want.ID, n-1)
		}
		applied, superseded := 0, 0
		for _, j := range jobs {
			got := job(t, s.Store, co, j.ID)
			switch {
			case j.ID == want.ID:
				if got.Status != directory.JobCompleted || got.Name != want.Name || got.By != "uploader" || got.ClientVersion != "epic/test" ||
					got.Processed != got.Total || got.Total == 0 {
					t.Errorf("applied job = %s %q by %q (%s), %d/%d rows; want COMPLETED with its intake fields, every row processed",
						got.Status, got.Name, got.By, got.ClientVersion, got.Processed, got.Total)
				}
				applied++
			case got.Status == directory.JobSuperseded && got.SupersededBy == want.ID && !got.Finished.IsZero():
				superseded++
			default:
				t.Errorf("job %s: %s superseded by %s, want SUPERSEDED by %s", j.ID, got.Status, got.SupersededBy, want.ID)
			}
		}
		if applied != 1 || superseded != n-1 {
			t.Errorf("%d applied, %d superseded; want 1 and %d", applied, superseded, n-1)
		}
		var i int
		fmt.Sscanf(want.Name, "upload-%02d.zip", &i)
		if got := people(t, s.Store, co); got != 10+i {
			t.Errorf("the directory has %d people, want %d (the newest upload's)", got, 10+i)
		}
		// Nothing is left to do.
		if res, err := s.RunBatch(t.Context(), uuid.Nil); err != nil || len(res.Jobs) != 0 || res.Superseded != 0 {
			t.Errorf("second RunBatch = %+v, %v; want nothing done", res, err)
		}
	})
}

// TestCompanies: one batch run processes every company with queued jobs,
// each with its own newest archive; RunBatch of one company does only it.
func TestCompanies(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		var cos []*directory.Company
		wantPeople := map[uuid.UUID]int{}
		newestOf := map[uuid.UUID]uuid.UUID{}
		for c := range 5 {
			co := addCompany(t, s.Store, fmt.Sprintf("Company %d", c))
			cos = append(cos, co)
			var js []*directory.Job
			for u := range 3 {
				js = append(js, intake(t, s, co, "a.zip", genZip(t, 5+c*3+u, int64(c))))
			}
			n := newest(js)
			newestOf[co.ID] = n.ID
			for u, j := range js {
				if j == n {
					wantPeople[co.ID] = 5 + c*3 + u
				}
			}
		}
		idle := addCompany(t, s.Store, "Idle")
		only := addCompany(t, s.Store, "Only")
		onlyJob := intake(t, s, only, "only.zip", genZip(t, 7, 9))

		// RunBatch of one company does that one only.
		res, err := s.RunBatch(t.Context(), only.ID)
		if err != nil || len(res.Jobs) != 1 || res.Jobs[0].ID != onlyJob.ID {
			t.Fatalf("RunBatch(Only) = %+v, %v; want its job", res, err)
		}
		for _, co := range cos {
			if people(t, s.Store, co) != 0 {
				t.Fatalf("RunBatch(Only) changed %s", co.Name)
			}
		}

		res, err = s.RunBatch(t.Context(), uuid.Nil)
		if err != nil {
			t.Fatalf("RunBatch: %v", err)
		}
		if len(res.Jobs) != len(cos) || res.Superseded != 2*len(cos) {
			t.Fatalf("RunBatch: %d jobs, %d superseded; want %d and %d", len(res.Jobs), res.Superseded, len(cos), 2*len(cos))
		}
		for _, j := range res.Jobs {
			if j.ID != newestOf[j.CompanyID] || j.Status != directory.JobCompleted {
				t.Errorf("applied job %s (%s) of company %s, want %s COMPLETED", j.ID, j.Status, j.CompanyID, newestOf[j.CompanyID])
			}
		}
		for _, co := range cos {
			if got := people(t, s.Store, co); got != wantPeople[co.ID] {
				t.Errorf("%s has %d people, want %d", co.Name, got, wantPeople[co.ID])
			}
		}
		if people(t, s.Store, idle) != 0 {
			t.Errorf("Idle changed")
		}
		if _, err := s.RunBatch(t.Context(), uuid.New()); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("RunBatch of an unknown company: %v, want ErrNotFound", err)
		}
	})
}

// TestInvalid: archive-level problems are answered at once with a FAILED
// job holding the findings; nothing is queued.
func TestInvalid(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := addCompany(t, s.Store, "Acme")
		good := genZip(t, 5, 1)
		cases := []struct {
			name string
			data []byte
			code string
		}{
			{"notzip.zip", []byte("this is not a zip file at all"), "NOT_A_ZIP"},
			{"nomanifest.zip", zipOf(t, map[string]string{"DS_USERS.csv": "USER_KEY\n"}), "MISSING_MANIFEST"},
			{"badversion.zip", zipOf(t, map[string]string{"manifest.xml": `<manifest><autoDataSyncVersion>9.9</autoDataSyncVersion></manifest>`}), "UNSUPPORTED_VERSION"},
			{"nocolumn.zip", renameColumn(t, good, "DS_USERS.csv", "FIRST_NAME", "GIVEN_NAME"), "MISSING_COLUMN"},
		}
		for _, c := range cases {
			j, err := s.Intake(t.Context(), co, c.name, "uploader", "epic/test", bytes.NewReader(c.data))
			if !errors.Is(err, queue.ErrInvalidArchive) || !errors.Is(err, engine.ErrInvalidArchive) {
				t.Fatalf("Intake %s: %v, want ErrInvalidArchive", c.name, err)
			}
			if j == nil || j.Status != directory.JobFailed || len(j.Details) == 0 {
				t.Fatalf("Intake %s: job %+v, want FAILED with findings", c.name, j)
			}
			stored := job(t, s.Store, co, j.ID)
			var codes []string
			for _, d := range stored.Details {
				codes = append(codes, d.Event)
			}
			if stored.Status != directory.JobFailed || !strings.Contains(strings.Join(codes, " "), c.code) || stored.Finished.IsZero() {
				t.Errorf("stored job of %s: %s, findings %v; want FAILED, finished, with %s", c.name, stored.Status, codes, c.code)
			}
			if stored.Name != c.name || stored.By != "uploader" {
				t.Errorf("stored job of %s: name %q by %q", c.name, stored.Name, stored.By)
			}
		}
		if pending, _ := s.Store.Pending(t.Context()); len(pending) != 0 {
			t.Errorf("invalid uploads queued something: %v", pending)
		}
		if res, err := s.RunBatch(t.Context(), uuid.Nil); err != nil || len(res.Jobs) != 0 {
			t.Errorf("RunBatch after invalid uploads = %+v, %v; want nothing", res, err)
		}
		// A valid one still goes through.
		j := intake(t, s, co, `C:\exports\hr.zip`, good)
		if j.Name != "hr.zip" {
			t.Errorf("job name %q, want hr.zip", j.Name)
		}
		if res, err := s.RunBatch(t.Context(), uuid.Nil); err != nil || len(res.Jobs) != 1 || res.Jobs[0].Name != "hr.zip" {
			t.Errorf("RunBatch = %+v, %v; want hr.zip applied", res, err)
		}
	})
}

// TestTooLarge: an upload over MaxUpload is ErrTooLarge, and nothing is
// stored.
func TestTooLarge(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := addCompany(t, s.Store, "Acme")
		data := genZip(t, 50, 1)
		s.MaxUpload = int64(len(data)) - 1
		j, err := s.Intake(t.Context(), co, "big.zip", "uploader", "epic/test", bytes.NewReader(data))
		if !errors.Is(err, queue.ErrTooLarge) || j != nil {
			t.Fatalf("Intake over the limit = %v, %v; want ErrTooLarge", j, err)
		}
		if js, _ := s.Store.Jobs(t.Context(), co.ID); len(js) != 0 {
			t.Errorf("a too-large upload stored %d jobs", len(js))
		}
		if pending, _ := s.Store.Pending(t.Context()); len(pending) != 0 {
			t.Errorf("a too-large upload queued something")
		}
		s.MaxUpload = int64(len(data))
		intake(t, s, co, "fits.zip", data) // exactly the limit fits
	})
}

func TestNotEnabled(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := &directory.Company{Name: "NoEpic", Config: directory.DefaultConfig()}
		if err := s.Store.CreateCompany(t.Context(), co); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Intake(t.Context(), co, "a.zip", "u", "v", bytes.NewReader(genZip(t, 3, 1))); !errors.Is(err, queue.ErrNotEnabled) {
			t.Fatalf("Intake for a company without EPIC: %v, want ErrNotEnabled", err)
		}
		if js, _ := s.Store.Jobs(t.Context(), co.ID); len(js) != 0 {
			t.Errorf("stored %d jobs", len(js))
		}
	})
}

// TestCrashRecovery: a job left PROCESSING by a run that died (its claim
// gone) is queued again, then completes once; the directory is as if the
// job ran once.
func TestCrashRecovery(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		for _, recoverFirst := range []bool{true, false} {
			co := addCompany(t, s.Store, fmt.Sprintf("Acme %v", recoverFirst))
			data := genZip(t, 40, 3)
			j := intake(t, s, co, "a.zip", data)
			// A run takes the job and dies: its claim goes with it.
			cl, err := s.Store.Claim(t.Context(), co.ID)
			if err != nil || cl == nil {
				t.Fatalf("Claim = %v, %v", cl, err)
			}
			if tk, err := cl.Take(t.Context(), j.Started); err != nil || tk == nil || tk.Job.ID != j.ID {
				t.Fatalf("Take = %+v, %v", tk, err)
			}
			// A live run's company is busy: not recovered, not processed.
			if n, err := s.Recover(t.Context()); err != nil || n != 0 {
				t.Errorf("Recover while a run holds the company = %d, %v; want 0", n, err)
			}
			if res, err := s.RunBatch(t.Context(), co.ID); err != nil || len(res.Busy) != 1 || len(res.Jobs) != 0 {
				t.Errorf("RunBatch while a run holds the company = %+v, %v; want it busy", res, err)
			}
			cl.Release()
			if got := job(t, s.Store, co, j.ID); got.Status != directory.JobProcessing {
				t.Fatalf("orphan is %s, want PROCESSING", got.Status)
			}
			if recoverFirst {
				if n, err := s.Recover(t.Context()); err != nil || n != 1 {
					t.Fatalf("Recover = %d, %v; want 1", n, err)
				}
				if got := job(t, s.Store, co, j.ID); got.Status != directory.JobQueued {
					t.Fatalf("recovered job is %s, want QUEUED", got.Status)
				}
			}
			res, err := s.RunBatch(t.Context(), uuid.Nil)
			if err != nil || len(res.Jobs) != 1 || res.Jobs[0].ID != j.ID || res.Jobs[0].Status != directory.JobCompleted {
				t.Fatalf("RunBatch = %+v, %v; want the job COMPLETED", res, err)
			}
			if want := map[bool]int{true: 0, false: 1}[recoverFirst]; res.Requeued != want {
				t.Errorf("Requeued = %d, want %d", res.Requeued, want)
			}
			got := job(t, s.Store, co, j.ID)
			for _, l := range got.Summary {
				if l.Inserted != l.Read {
					t.Errorf("%s: %d inserted of %d read: the job did not run on a clean directory", l.Synchronizer, l.Inserted, l.Read)
				}
			}
			// Once only, and the directory equals a clean apply.
			if res, _ := s.RunBatch(t.Context(), uuid.Nil); len(res.Jobs) != 0 {
				t.Errorf("the job ran again: %+v", res)
			}
			clean := addCompany(t, s.Store, fmt.Sprintf("Clean %v", recoverFirst))
			intake(t, s, clean, "a.zip", data)
			if _, err := s.RunBatch(t.Context(), clean.ID); err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(exported(t, s.Store, clean), exported(t, s.Store, co)); diff != "" {
				t.Errorf("recovered directory differs from a clean apply (-clean +recovered):\n%s", diff)
			}
		}
	})
}

// TestRun: the scheduler runs a batch when triggered and on its interval,
// and returns when its context ends.
func TestRun(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := addCompany(t, s.Store, "Acme")
		done := func(id uuid.UUID) func() bool {
			return func() bool { return job(t, s.Store, co, id).Status == directory.JobCompleted }
		}
		ctx, cancel := context.WithCancel(t.Context())
		ran := make(chan error)
		go func() { ran <- s.Run(ctx, 0) }()
		j := intake(t, s, co, "a.zip", genZip(t, 5, 1))
		s.Trigger()
		waitFor(t, "the triggered run", done(j.ID))
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}

		ctx, cancel = context.WithCancel(t.Context())
		defer cancel()
		go func() { ran <- s.Run(ctx, 10*1e6) }() // 10ms
		j = intake(t, s, co, "b.zip", genZip(t, 6, 1))
		waitFor(t, "the scheduled run", done(j.ID))
		cancel()
		<-ran
	})
}
