package storetest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

var queueTests = []test{
	{"TakeNewest", testQueueTakeNewest},
	{"Empty", testQueueEmpty},
	{"ClaimExclusive", testQueueClaimExclusive},
	{"ClaimRace", testQueueClaimRace},
	{"Orphan", testQueueOrphan},
	{"OrphanSuperseded", testQueueOrphanSuperseded},
	{"ArchiveRetention", testQueueArchiveRetention},
	{"EnqueueErrors", testQueueEnqueueErrors},
}

// queued is a QUEUED job of the company received at t.
func queued(company uuid.UUID, t time.Time) *directory.Job {
	return &directory.Job{ID: uuid.New(), CompanyID: company, Name: "a.zip", Status: directory.JobQueued,
		By: "uploader", ClientVersion: "epic/1.0", Started: t, Updated: t, Total: 3,
		Manifest: directory.JobManifest{Version: "1.3"}}
}

func enqueue(t *testing.T, s directory.Store, j *directory.Job, data string) {
	t.Helper()
	if err := s.Enqueue(ctx(t), j, []byte(data)); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func claim(t *testing.T, s directory.Store, company uuid.UUID) directory.Claim {
	t.Helper()
	c, err := s.Claim(ctx(t), company)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if c == nil {
		t.Fatalf("Claim of a company nobody holds: nil")
	}
	t.Cleanup(func() { c.Release() })
	return c
}

func take(t *testing.T, c directory.Claim, now time.Time) *directory.Taken {
	t.Helper()
	tk, err := c.Take(ctx(t), now)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return tk
}

func jobStatus(t *testing.T, s directory.Store, company, id uuid.UUID) *directory.Job {
	t.Helper()
	j, err := s.Job(ctx(t), company, id)
	if err != nil {
		t.Fatalf("Job %s: %v", id, err)
	}
	return j
}

func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// testQueueTakeNewest: Take picks the newest queued job (ties by the
// greater ID), supersedes the older ones and leaves other companies alone.
func testQueueTakeNewest(t *testing.T, s directory.Store) {
	a, b := newCompany(t, s, "Acme"), newCompany(t, s, "Beta")
	t0 := usec(2026, 12, 4, 9, 0, 0, 0)
	old := queued(a, t0)
	tie1, tie2 := queued(a, t0.Add(time.Minute)), queued(a, t0.Add(time.Minute))
	if bytes.Compare(tie1.ID[:], tie2.ID[:]) > 0 {
		tie1, tie2 = tie2, tie1
	}
	other := queued(b, t0.Add(time.Hour))
	enqueue(t, s, tie2, "newest")
	enqueue(t, s, old, "old")
	enqueue(t, s, tie1, "tie")
	enqueue(t, s, other, "other")

	pending, err := s.Pending(ctx(t))
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if got, want := sortedIDs(pending), sortedIDs([]uuid.UUID{a, b}); !slices.Equal(got, want) {
		t.Errorf("Pending = %v, want %v", got, want)
	}
	if j := jobStatus(t, s, a, old.ID); j.Status != directory.JobQueued || !j.Started.Equal(t0) {
		t.Errorf("queued job: status %s started %v, want QUEUED %v", j.Status, j.Started, t0)
	}

	now := t0.Add(2 * time.Hour)
	c := claim(t, s, a)
	tk := take(t, c, now)
	if tk == nil || tk.Job == nil {
		t.Fatalf("Take = %v, want the newest job", tk)
	}
	if tk.Job.ID != tie2.ID {
		t.Errorf("Take took %s, want the newest %s (ties by greater ID)", tk.Job.ID, tie2.ID)
	}
	if string(tk.Archive) != "newest" {
		t.Errorf("Take archive = %q, want %q", tk.Archive, "newest")
	}
	if tk.Job.Status != directory.JobProcessing || tk.Job.Name != "a.zip" || tk.Job.By != "uploader" || tk.Job.Total != 3 {
		t.Errorf("taken job = %+v, want PROCESSING with its intake fields", tk.Job)
	}
	if got, want := sortedIDs(tk.Superseded), sortedIDs([]uuid.UUID{old.ID, tie1.ID}); !slices.Equal(got, want) {
		t.Errorf("Superseded = %v, want %v", got, want)
	}
	for _, id := range []uuid.UUID{old.ID, tie1.ID} {
		j := jobStatus(t, s, a, id)
		if j.Status != directory.JobSuperseded || j.SupersededBy != tie2.ID || !j.Finished.Equal(now) {
			t.Errorf("job %s: status %s by %s finished %v, want SUPERSEDED by %s at %v", id, j.Status, j.SupersededBy, j.Finished, tie2.ID, now)
		}
	}
	if j := jobStatus(t, s, a, tie2.ID); j.Status != directory.JobProcessing {
		t.Errorf("taken job stored as %s, want PROCESSING", j.Status)
	}
	if j := jobStatus(t, s, b, other.ID); j.Status != directory.JobQueued {
		t.Errorf("other company's job: %s, want QUEUED", j.Status)
	}
	// A job queued after the Take is newer: the next Take has it (the
	// PROCESSING one, as an orphan, is superseded by it).
	later := queued(a, now.Add(time.Second))
	enqueue(t, s, later, "later")
	tk = take(t, c, now.Add(time.Minute))
	if tk == nil || tk.Job.ID != later.ID || string(tk.Archive) != "later" {
		t.Fatalf("second Take = %+v, want the later job", tk)
	}
	if tk.Requeued != 1 || !slices.Equal(tk.Superseded, []uuid.UUID{tie2.ID}) {
		t.Errorf("second Take: requeued %d, superseded %v; want 1 and [%s]", tk.Requeued, tk.Superseded, tie2.ID)
	}
}

func testQueueEmpty(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "Acme")
	pending, err := s.Pending(ctx(t))
	if err != nil || len(pending) != 0 {
		t.Errorf("Pending of an empty store = %v, %v; want none", pending, err)
	}
	c := claim(t, s, a)
	if tk := take(t, c, time.Now()); tk != nil {
		t.Errorf("Take with nothing queued = %+v, want nil", tk)
	}
	// Finished jobs are not pending.
	j := fullJob(a)
	if err := s.SaveJob(ctx(t), j); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.Pending(ctx(t)); len(pending) != 0 {
		t.Errorf("Pending with only a finished job = %v, want none", pending)
	}
}

func testQueueClaimExclusive(t *testing.T, s directory.Store) {
	a, b := newCompany(t, s, "Acme"), newCompany(t, s, "Beta")
	c1 := claim(t, s, a)
	if c2, err := s.Claim(ctx(t), a); err != nil || c2 != nil {
		t.Fatalf("second Claim of a held company = %v, %v; want nil, nil", c2, err)
	}
	cb := claim(t, s, b) // other companies are free
	select {
	case <-c1.Lost():
		t.Errorf("Lost closed on a live claim")
	default:
	}
	if err := c1.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := c1.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	c3 := claim(t, s, a)
	c3.Release()
	cb.Release()
}

// testQueueClaimRace: of many runs claiming one company at once, one wins.
func testQueueClaimRace(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "Acme")
	const n = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		won   []directory.Claim
		errs  []error
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			c, err := s.Claim(ctx(t), a)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if c != nil {
				won = append(won, c)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, c := range won {
		c.Release()
	}
	if len(errs) > 0 || len(won) != 1 {
		t.Errorf("%d concurrent Claims: %d won, errors %v; want exactly 1 and none", n, len(won), errs)
	}
}

// testQueueOrphan: a PROCESSING job whose run died (its claim released
// without ending the job) is queued again by the next claimer.
func testQueueOrphan(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "Acme")
	t0 := usec(2026, 12, 4, 9, 0, 0, 0)
	j := queued(a, t0)
	enqueue(t, s, j, "zip")
	c := claim(t, s, a)
	if tk := take(t, c, t0.Add(time.Minute)); tk == nil || tk.Job.ID != j.ID {
		t.Fatalf("Take = %+v, want %s", tk, j.ID)
	}
	c.Release() // the run died

	pending, _ := s.Pending(ctx(t))
	if !slices.Equal(pending, []uuid.UUID{a}) {
		t.Errorf("Pending with an orphan = %v, want [%s]", pending, a)
	}
	c = claim(t, s, a)
	n, err := c.Requeue(ctx(t), t0.Add(2*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("Requeue = %d, %v; want 1", n, err)
	}
	if got := jobStatus(t, s, a, j.ID); got.Status != directory.JobQueued || !got.Started.Equal(t0) {
		t.Errorf("requeued job: %s started %v, want QUEUED, intake time %v kept", got.Status, got.Started, t0)
	}
	tk := take(t, c, t0.Add(3*time.Minute))
	if tk == nil || tk.Job.ID != j.ID || string(tk.Archive) != "zip" || tk.Requeued != 0 {
		t.Fatalf("Take after Requeue = %+v, want the job with its archive", tk)
	}
	c.Release()
	// Take requeues by itself too.
	c = claim(t, s, a)
	tk = take(t, c, t0.Add(4*time.Minute))
	if tk == nil || tk.Job.ID != j.ID || tk.Requeued != 1 {
		t.Fatalf("Take of an orphan = %+v, want the job, requeued 1", tk)
	}
}

// testQueueOrphanSuperseded: an orphan older than a queued job is
// superseded by it.
func testQueueOrphanSuperseded(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "Acme")
	t0 := usec(2026, 12, 4, 9, 0, 0, 0)
	old := queued(a, t0)
	enqueue(t, s, old, "old")
	c := claim(t, s, a)
	take(t, c, t0.Add(time.Minute))
	c.Release()
	newer := queued(a, t0.Add(time.Second))
	enqueue(t, s, newer, "new")
	c = claim(t, s, a)
	tk := take(t, c, t0.Add(2*time.Minute))
	if tk == nil || tk.Job.ID != newer.ID || tk.Requeued != 1 || !slices.Equal(tk.Superseded, []uuid.UUID{old.ID}) {
		t.Fatalf("Take = %+v, want the newer job superseding the orphan", tk)
	}
	if j := jobStatus(t, s, a, old.ID); j.Status != directory.JobSuperseded || j.SupersededBy != newer.ID {
		t.Errorf("orphan: %s by %s, want SUPERSEDED by %s", j.Status, j.SupersededBy, newer.ID)
	}
}

// testQueueArchiveRetention: archives of ended jobs go (DropArchive, or
// the next Take), HELD jobs keep theirs.
func testQueueArchiveRetention(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "Acme")
	t0 := usec(2026, 12, 4, 9, 0, 0, 0)
	c := claim(t, s, a)
	// requeue puts an ended job back in the queue, to see whether its
	// archive is still there.
	requeueAs := func(j *directory.Job, st directory.JobStatus) {
		t.Helper()
		j.Status = st
		if err := s.SaveJob(ctx(t), j); err != nil {
			t.Fatalf("SaveJob: %v", err)
		}
	}
	archiveOf := func(j *directory.Job) []byte {
		t.Helper()
		requeueAs(j, directory.JobQueued)
		tk := take(t, c, t0.Add(time.Hour))
		if tk == nil || tk.Job.ID != j.ID {
			t.Fatalf("Take = %+v, want %s", tk, j.ID)
		}
		return tk.Archive
	}

	j := queued(a, t0)
	enqueue(t, s, j, "one")
	tk := take(t, c, t0.Add(time.Minute))
	if err := c.DropArchive(ctx(t), tk.Job.ID); err != nil {
		t.Fatalf("DropArchive: %v", err)
	}
	if err := c.DropArchive(ctx(t), tk.Job.ID); err != nil {
		t.Errorf("DropArchive of a job without one: %v", err)
	}
	if got := archiveOf(tk.Job); got != nil {
		t.Errorf("archive after DropArchive = %q, want none", got)
	}

	k := queued(a, t0.Add(time.Second))
	enqueue(t, s, k, "two")
	tk = take(t, c, t0.Add(time.Minute))
	requeueAs(tk.Job, directory.JobCompleted) // ended, archive not dropped (a crash)
	if again := take(t, c, t0.Add(time.Minute)); again != nil {
		t.Fatalf("Take with nothing queued = %+v", again)
	}
	if got := archiveOf(tk.Job); got != nil {
		t.Errorf("archive of an ended job after the next Take = %q, want none", got)
	}

	h := queued(a, t0.Add(2*time.Second))
	enqueue(t, s, h, "held")
	tk = take(t, c, t0.Add(time.Minute))
	requeueAs(tk.Job, directory.JobHeld)
	take(t, c, t0.Add(time.Minute))
	if got := archiveOf(tk.Job); string(got) != "held" {
		t.Errorf("archive of a HELD job = %q, want kept", got)
	}
}

func testQueueEnqueueErrors(t *testing.T, s directory.Store) {
	a := newCompany(t, s, "Acme")
	t0 := usec(2026, 12, 4, 9, 0, 0, 0)
	if err := s.Enqueue(ctx(t), queued(uuid.New(), t0), []byte("x")); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Enqueue for a company that does not exist: %v, want ErrNotFound", err)
	}
	j := queued(a, t0)
	enqueue(t, s, j, "x")
	if err := s.Enqueue(ctx(t), j, []byte("y")); !errors.Is(err, directory.ErrExists) {
		t.Errorf("Enqueue of a taken ID: %v, want ErrExists", err)
	}
	done := queued(a, t0)
	done.Status = directory.JobCompleted
	if err := s.Enqueue(ctx(t), done, []byte("x")); err == nil {
		t.Errorf("Enqueue of a COMPLETED job: no error")
	}
	if err := s.Enqueue(ctx(t), queued(a, t0), nil); err == nil {
		t.Errorf("Enqueue without an archive: no error")
	}
	if err := s.Enqueue(ctx(t), queued(a, time.Time{}), []byte("x")); err == nil {
		t.Errorf("Enqueue without an intake time: no error")
	}
	// The failed Enqueues left nothing behind.
	c := claim(t, s, a)
	tk := take(t, c, t0.Add(time.Hour))
	if tk == nil || tk.Job.ID != j.ID || string(tk.Archive) != "x" || len(tk.Superseded) != 0 {
		t.Errorf("Take = %+v, want only the first job with its archive", tk)
	}
}
