package storetest

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var jobTests = []test{
	{"RoundTrip", testJobRoundTrip},
	{"Replace", testJobReplace},
	{"NotFound", testJobNotFound},
	{"ListNewestFirst", testJobList},
	{"SaveInUpdate", testJobInUpdate},
	{"LargeRows", testJobLargeRows},
}

// jobOpts compares jobs: times to the microsecond, lists nil or empty
// alike.
var jobOpts = gocmp.Options{
	cmpopts.EquateApproxTime(time.Microsecond),
	cmpopts.EquateEmpty(),
}

func fullJob(company uuid.UUID) *directory.Job {
	started := usec(2026, 12, 4, 9, 30, 15, 123456)
	return &directory.Job{
		ID:            uuid.New(),
		CompanyID:     company,
		Name:          "export-2026-12-04.zip",
		Status:        directory.JobCompletedWithErrors,
		By:            "sync@acme.example",
		ClientVersion: "epic 1.2.3",
		Started:       started,
		Updated:       started.Add(90 * time.Second),
		Finished:      started.Add(95 * time.Second),
		Manifest: directory.JobManifest{
			Version:                   "2",
			Mirror:                    true,
			DeviceNamesToIgnore:       []string{"Home Phone", "Fax"},
			IgnoreDeviceOrderAndDelay: true,
			ForceNewPasswordReset:     true,
		},
		Total:        1234,
		Processed:    1200,
		SupersededBy: uuid.New(),
		Summary: []directory.SummaryLine{
			{Synchronizer: "DS_USERS", Read: 100, Inserted: 10, Updated: 20, Adopted: 3, Unchanged: 60, Removed: 1, RemovedByMirror: 2, Ignored: 3, Failed: 1},
			{Synchronizer: "DS_SITES", Read: 5, Unchanged: 5},
		},
		Details: []directory.Detail{
			{Synchronizer: "DS_USERS", Event: "UNKNOWN_SUPERVISOR", Status: "WARNING", Level: "FIELD", Time: started.Add(time.Second), File: "users.csv", Line: 17, RowKey: "E123", Field: "SUPERVISOR", Value: "E999", Message: "no person E999; supervisor left empty"},
			{Synchronizer: "DS_DEVICES_EMAIL", Event: "OWNER_FAILED", Status: "FAILURE", Level: "ROW", Time: started.Add(2 * time.Second), File: "devices_email.csv", Line: 3, RowKey: "E7|Work Email", Message: "owner E7 failed on users.csv line 9 — «ünïcödé»"},
		},
		Rows: []byte("\x1f\x8b\x08\x00 not really gzip, but bytes \x00\xff"),
	}
}

func testJobRoundTrip(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	j := fullJob(id)
	if err := s.SaveJob(ctx(t), j); err != nil {
		t.Fatalf("SaveJob: %v", err)
	}
	got, err := s.Job(ctx(t), id, j.ID)
	if err != nil {
		t.Fatalf("Job: %v", err)
	}
	if diff := gocmp.Diff(j, got, jobOpts); diff != "" {
		t.Errorf("Job (-saved +got):\n%s", diff)
	}

	// A queued job: zero Finished, no superseder, no report yet.
	q := &directory.Job{ID: uuid.New(), CompanyID: id, Name: "q.zip", Status: directory.JobQueued, By: "x", Started: usec(2026, 12, 5, 0, 0, 0, 1), Updated: usec(2026, 12, 5, 0, 0, 0, 1)}
	if err := s.SaveJob(ctx(t), q); err != nil {
		t.Fatalf("SaveJob: %v", err)
	}
	got, err = s.Job(ctx(t), id, q.ID)
	if err != nil {
		t.Fatalf("Job: %v", err)
	}
	if diff := gocmp.Diff(q, got, jobOpts); diff != "" {
		t.Errorf("queued Job (-saved +got):\n%s", diff)
	}
	if !got.Finished.IsZero() || got.SupersededBy != uuid.Nil || len(got.Rows) != 0 {
		t.Errorf("queued Job: Finished %v, SupersededBy %v, %d bytes of rows; want zero, nil, none", got.Finished, got.SupersededBy, len(got.Rows))
	}
}

func testJobReplace(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	j := fullJob(id)
	j.Status, j.Finished, j.Summary, j.Details, j.Rows, j.SupersededBy = directory.JobQueued, time.Time{}, nil, nil, nil, uuid.Nil
	if err := s.SaveJob(ctx(t), j); err != nil {
		t.Fatalf("SaveJob: %v", err)
	}
	done := fullJob(id)
	done.ID = j.ID
	if err := s.SaveJob(ctx(t), done); err != nil {
		t.Fatalf("SaveJob again: %v", err)
	}
	got, err := s.Job(ctx(t), id, j.ID)
	if err != nil {
		t.Fatalf("Job: %v", err)
	}
	if diff := gocmp.Diff(done, got, jobOpts); diff != "" {
		t.Errorf("replaced Job (-saved +got):\n%s", diff)
	}
	jobs, err := s.Jobs(ctx(t), id)
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(jobs) != 1 {
		t.Errorf("Jobs = %d after saving one job twice, want 1", len(jobs))
	}
}

func testJobNotFound(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	if _, err := s.Job(ctx(t), id, uuid.New()); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Job of an unknown ID = %v, want ErrNotFound", err)
	}
	other := newCompany(t, s, "Other")
	j := fullJob(other)
	if err := s.SaveJob(ctx(t), j); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Job(ctx(t), id, j.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Job of another company's job = %v, want ErrNotFound", err)
	}
}

func testJobList(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	var jobs []*directory.Job
	for i, day := range []int{3, 1, 4, 2} {
		j := fullJob(id)
		j.Name = []string{"c.zip", "a.zip", "d.zip", "b.zip"}[i]
		j.Started = usec(2026, 11, day, 12, 0, 0, day)
		j.Updated = j.Started.Add(time.Minute)
		jobs = append(jobs, j)
		if err := s.SaveJob(ctx(t), j); err != nil {
			t.Fatalf("SaveJob: %v", err)
		}
	}
	// Two jobs started one microsecond apart still sort.
	e := fullJob(id)
	e.Name = "e.zip"
	e.Started = jobs[2].Started.Add(time.Microsecond)
	if err := s.SaveJob(ctx(t), e); err != nil {
		t.Fatalf("SaveJob: %v", err)
	}
	got, err := s.Jobs(ctx(t), id)
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	var want []*directory.Job
	for _, j := range []*directory.Job{e, jobs[2], jobs[0], jobs[3], jobs[1]} {
		x := *j
		x.Details, x.Rows = nil, nil
		want = append(want, &x)
	}
	if diff := gocmp.Diff(want, got, jobOpts); diff != "" {
		t.Errorf("Jobs, newest first, without details and rows (-want +got):\n%s", diff)
	}
	for _, j := range got {
		if j.Details != nil || j.Rows != nil {
			t.Errorf("Jobs: %s has Details or Rows", j.Name)
		}
	}
}

func testJobInUpdate(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	w := newWorld()
	j := fullJob(id)
	update(t, s, id, func(tx directory.Tx) error {
		if err := putTx(tx, true, w.Snapshot); err != nil {
			return err
		}
		return tx.SaveJob(j)
	})
	got, err := s.Job(ctx(t), id, j.ID)
	if err != nil {
		t.Fatalf("Job: %v", err)
	}
	if diff := gocmp.Diff(j, got, jobOpts); diff != "" {
		t.Errorf("Job saved in Update (-saved +got):\n%s", diff)
	}
	// Replacing in a second Update.
	j.Status = directory.JobCompleted
	j.Details = nil
	update(t, s, id, func(tx directory.Tx) error { return tx.SaveJob(j) })
	got, err = s.Job(ctx(t), id, j.ID)
	if err != nil {
		t.Fatalf("Job: %v", err)
	}
	if diff := gocmp.Diff(j, got, jobOpts); diff != "" {
		t.Errorf("Job replaced in Update (-saved +got):\n%s", diff)
	}
}

func testJobLargeRows(t *testing.T, s directory.Store) {
	id := newCompany(t, s, "Acme Corp")
	j := fullJob(id)
	rnd := rand.NewChaCha8([32]byte{1})
	j.Rows = make([]byte, 5<<20+7) // incompressible
	_, _ = rnd.Read(j.Rows)
	if err := s.SaveJob(ctx(t), j); err != nil {
		t.Fatalf("SaveJob: %v", err)
	}
	got, err := s.Job(ctx(t), id, j.ID)
	if err != nil {
		t.Fatalf("Job: %v", err)
	}
	if len(got.Rows) != len(j.Rows) || string(got.Rows) != string(j.Rows) {
		t.Errorf("Rows: got %d bytes, want the %d bytes saved", len(got.Rows), len(j.Rows))
	}
	jobs, err := s.Jobs(ctx(t), id)
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(jobs) != 1 || jobs[0].Rows != nil {
		t.Errorf("Jobs: want one job without Rows")
	}
}
