package queue_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/generate"
	"github.com/epicsync/epic/internal/queue"
)

// mirrorZip is an `epic generate` archive of users people with mirror on.
func mirrorZip(t *testing.T, users int, seed int64) []byte {
	t.Helper()
	var b bytes.Buffer
	w := archive.NewZipWriter(&b, archive.Latest)
	m := archive.DefaultManifest()
	m.Mirror = true
	if _, err := generate.Write(w, generate.Options{Users: users, Seed: seed, Manifest: m}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// held applies 100 people, then queues a mirror archive of 50 that the
// safety gate holds; it returns the held job.
func held(t *testing.T, s *queue.Service, co *directory.Company) *directory.Job {
	t.Helper()
	intake(t, s, co, "full.zip", genZip(t, 100, 1))
	if _, err := s.RunBatch(t.Context(), co.ID); err != nil {
		t.Fatal(err)
	}
	j := intake(t, s, co, "half.zip", mirrorZip(t, 50, 1))
	res, err := s.RunBatch(t.Context(), co.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0].Status != directory.JobHeld {
		t.Fatalf("batch run: %+v, want the job HELD", res.Jobs)
	}
	if n := people(t, s.Store, co); n != 100 {
		t.Fatalf("people after the held job: %d, want 100", n)
	}
	return job(t, s.Store, co, j.ID)
}

func TestHeldJobApproved(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := addCompany(t, s.Store, "Acme")
		j := held(t, s, co)
		// Another batch run leaves the held job alone, with its archive.
		if res, err := s.RunBatch(t.Context(), co.ID); err != nil || len(res.Jobs) != 0 {
			t.Fatalf("batch run with only a held job: %+v, %v", res.Jobs, err)
		}
		d, err := s.Store.Decide(t.Context(), co.ID, j.ID, true, "admin", time.Now())
		if err != nil || d.Status != directory.JobQueued || !d.Approved() {
			t.Fatalf("approve: %+v, %v; want QUEUED and approved", d, err)
		}
		res, err := s.RunBatch(t.Context(), co.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 1 || res.Jobs[0].ID != j.ID || res.Jobs[0].Status != directory.JobCompleted {
			t.Fatalf("batch run after approve: %+v, want the job COMPLETED", res.Jobs)
		}
		if n := people(t, s.Store, co); n != 50 {
			t.Errorf("people after the approved job: %d, want 50", n)
		}
		if _, err := s.Store.Decide(t.Context(), co.ID, j.ID, true, "admin", time.Now()); !errors.Is(err, directory.ErrNotHeld) {
			t.Errorf("approve a COMPLETED job: %v, want ErrNotHeld", err)
		}
	})
}

func TestHeldJobRejected(t *testing.T) {
	eachStore(t, func(t *testing.T, s *queue.Service) {
		co := addCompany(t, s.Store, "Acme")
		j := held(t, s, co)
		d, err := s.Store.Decide(t.Context(), co.ID, j.ID, false, "admin", time.Now())
		if err != nil || d.Status != directory.JobRejected || d.Finished.IsZero() {
			t.Fatalf("reject: %+v, %v; want REJECTED and finished", d, err)
		}
		if last := d.Details[len(d.Details)-1]; !strings.Contains(last.Message, "rejected by admin") {
			t.Errorf("last detail %q", last.Message)
		}
		if res, err := s.RunBatch(t.Context(), co.ID); err != nil || len(res.Jobs) != 0 {
			t.Fatalf("batch run after reject: %+v, %v", res.Jobs, err)
		}
		if n := people(t, s.Store, co); n != 100 {
			t.Errorf("people after the rejected job: %d, want 100", n)
		}
		if _, err := s.Store.Decide(t.Context(), co.ID, j.ID, true, "admin", time.Now()); !errors.Is(err, directory.ErrNotHeld) {
			t.Errorf("approve a REJECTED job: %v, want ErrNotHeld", err)
		}
		if _, err := s.Store.Decide(t.Context(), co.ID, uuid.New(), true, "admin", time.Now()); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("decide a missing job: %v, want ErrNotFound", err)
		}
	})
}
