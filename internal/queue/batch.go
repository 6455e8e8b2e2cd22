package queue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
)

// BatchResult is what a batch run did.
type BatchResult struct {
	// Jobs are the jobs the run processed, as they ended (COMPLETED,
	// COMPLETED_WITH_ERRORS or FAILED), one a company at most.
	Jobs []*directory.Job
	// Superseded counts the older queued jobs the run ended SUPERSEDED.
	Superseded int
	// Requeued counts the jobs left PROCESSING by a run that died, which
	// this run queued again (and then processed or superseded).
	Requeued int
	// Busy are the companies that another run (in this process or
	// another) was processing: that run does them.
	Busy []uuid.UUID
}

// ErrInterrupted is wrapped by RunBatch's error when a job was
// interrupted (the context ended, or the company's lock was lost): its
// directory is as it was, and the job is queued again.
var ErrInterrupted = errors.New("interrupted")

// RunBatch processes, for each company with queued jobs (or only the given
// one when company != uuid.Nil), only its newest queued job (by intake
// time, ties by job ID); the company's older queued jobs end SUPERSEDED
// with SupersededBy = the newest. Companies are processed in parallel
// (Workers), each by one run at a time. A company's failure does not stop
// the others: the error joins every company's.
func (s *Service) RunBatch(ctx context.Context, company uuid.UUID) (BatchResult, error) {
	var res BatchResult
	cos, err := s.Store.Companies(ctx)
	if err != nil {
		return res, fmt.Errorf("batch run: %w", err)
	}
	byID := make(map[uuid.UUID]*directory.Company, len(cos))
	for _, co := range cos {
		byID[co.ID] = co
	}
	var ids []uuid.UUID
	if company != uuid.Nil {
		if byID[company] == nil {
			return res, fmt.Errorf("batch run: company %s: %w", company, directory.ErrNotFound)
		}
		ids = []uuid.UUID{company}
	} else if ids, err = s.Store.Pending(ctx); err != nil {
		return res, fmt.Errorf("batch run: %w", err)
	}
	start := time.Now()
	workers := s.Workers
	if workers <= 0 {
		workers = 2
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, workers)
	)
	for _, id := range ids {
		co := byID[id]
		if co == nil {
			continue // deleted meanwhile
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := s.runCompany(ctx, co)
			mu.Lock()
			defer mu.Unlock()
			if r.busy {
				res.Busy = append(res.Busy, co.ID)
			}
			if r.job != nil {
				res.Jobs = append(res.Jobs, r.job)
			}
			res.Superseded += r.superseded
			res.Requeued += r.requeued
			if err != nil {
				errs = append(errs, fmt.Errorf("company %s: %w", co.Name, err))
			}
		})
	}
	wg.Wait()
	if s.JobEnded != nil {
		for _, j := range res.Jobs {
			s.JobEnded(j)
		}
	}
	if s.BatchDone != nil {
		s.BatchDone(time.Since(start))
	}
	s.log().Info("batch run", "companies", len(ids), "jobs", len(res.Jobs), "superseded", res.Superseded,
		"requeued", res.Requeued, "busy", len(res.Busy), "errors", len(errs), "duration", time.Since(start))
	return res, errors.Join(errs...)
}

type companyResult struct {
	job                  *directory.Job
	superseded, requeued int
	busy                 bool
}

// runCompany claims the company and processes its newest queued job.
func (s *Service) runCompany(ctx context.Context, co *directory.Company) (companyResult, error) {
	var r companyResult
	cl, err := s.Store.Claim(ctx, co.ID)
	if err != nil {
		return r, err
	}
	if cl == nil {
		r.busy = true
		s.log().Info("company busy: another run has it", "company", co.Name)
		return r, nil
	}
	defer func() {
		if err := cl.Release(); err != nil {
			s.log().Warn("release company", "company", co.Name, "err", err)
		}
	}()
	tk, err := cl.Take(ctx, s.now())
	if err != nil || tk == nil {
		return r, err
	}
	r.superseded, r.requeued = len(tk.Superseded), tk.Requeued
	log := s.log().With("company", co.Name, "job", tk.Job.ID)
	if tk.Requeued > 0 {
		log.Warn("queued again jobs interrupted by a run that died", "jobs", tk.Requeued)
	}
	if len(tk.Superseded) > 0 {
		log.Info("superseded older queued jobs", "jobs", len(tk.Superseded))
	}
	r.job, err = s.apply(ctx, cl, co, tk)
	return r, err
}

// apply applies the taken job: stages its archive in a temporary folder
// under the job's name and hands it to the engine.
func (s *Service) apply(ctx context.Context, cl directory.Claim, co *directory.Company, tk *directory.Taken) (*directory.Job, error) {
	log := s.log().With("company", co.Name, "job", tk.Job.ID)
	if tk.Archive == nil {
		return s.fail(ctx, cl, tk.Job, "ARCHIVE_MISSING", "the job's archive is not stored any more; upload it again")
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-cl.Lost():
			log.Error("the company's lock was lost (database session ended): stopping its job")
			cancel()
		case <-runCtx.Done():
		}
	}()
	dir, err := os.MkdirTemp(s.TempDir, "epic-job-")
	if err != nil {
		return nil, s.interrupted(ctx, cl, tk.Job, fmt.Errorf("stage the archive: %w", err))
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, CleanName(tk.Job.Name))
	if err := os.WriteFile(path, tk.Archive, 0o600); err != nil {
		return nil, s.interrupted(ctx, cl, tk.Job, fmt.Errorf("stage the archive: %w", err))
	}
	tk.Archive = nil // the file has it; let the memory go during the apply
	log.Info("applying", "name", tk.Job.Name, "rows", tk.Job.Total)
	job, err := s.Engine.Apply(runCtx, co, path, engine.Job{ID: tk.Job.ID, By: tk.Job.By, ClientVersion: tk.Job.ClientVersion,
		Approved: tk.Job.Approved()})
	switch {
	case errors.Is(err, engine.ErrInvalidArchive) && job != nil:
		log.Info("job failed: invalid archive", "err", err)
	case err != nil && runCtx.Err() != nil:
		return nil, s.interrupted(ctx, cl, tk.Job, err)
	case err != nil && s.Store.Ping(context.WithoutCancel(ctx)) != nil:
		// The database went away under the job (a restart, a lost
		// connection): nothing was committed, so the job waits for the
		// next run instead of failing.
		log.Error("the database is unreachable: the job is queued again", "err", err)
		return nil, s.interrupted(ctx, cl, tk.Job, err)
	case err != nil:
		log.Error("job failed", "err", err)
		return s.fail(ctx, cl, tk.Job, "INTERNAL_ERROR", "the service could not apply the archive; nothing was changed: "+err.Error())
	default:
		log.Info("job done", "status", job.Status, "rows", job.Total, "processed", job.Processed)
	}
	s.dropArchive(ctx, cl, job)
	return job, nil
}

// interrupted queues the job again (unless the lock is lost: then the
// next run that claims the company does) and returns err as an
// ErrInterrupted.
func (s *Service) interrupted(ctx context.Context, cl directory.Claim, j *directory.Job, err error) error {
	select {
	case <-cl.Lost():
	default:
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, rerr := cl.Requeue(c, s.now()); rerr != nil {
			s.log().Warn("queue the interrupted job again", "job", j.ID, "err", rerr)
		}
	}
	return fmt.Errorf("job %s: %w (queued again): %w", j.ID, ErrInterrupted, err)
}

// fail ends the job FAILED with one detail saying why.
func (s *Service) fail(ctx context.Context, cl directory.Claim, j *directory.Job, event, msg string) (*directory.Job, error) {
	now := s.now()
	f := *j
	f.Status, f.Updated, f.Finished = directory.JobFailed, now, now
	f.Details = []directory.Detail{{Synchronizer: "BATCH", Event: event, Status: "FAILURE", Level: "ARCHIVE", Time: now, Message: msg}}
	if err := s.Store.SaveJob(context.WithoutCancel(ctx), &f); err != nil {
		return nil, fmt.Errorf("job %s: %s (and saving it FAILED: %w)", j.ID, msg, err)
	}
	s.dropArchive(ctx, cl, &f)
	return &f, nil
}

// dropArchive deletes the archive of an ended job (HELD jobs keep it); a
// failure only leaves it for the next Take of the company to delete.
func (s *Service) dropArchive(ctx context.Context, cl directory.Claim, j *directory.Job) {
	if j.Status == directory.JobHeld || j.Status == directory.JobQueued || j.Status == directory.JobProcessing {
		return
	}
	if err := cl.DropArchive(context.WithoutCancel(ctx), j.ID); err != nil {
		s.log().Warn("drop the archive of an ended job", "job", j.ID, "err", err)
	}
}

func (s *Service) init() {
	s.once.Do(func() {
		s.trigger = make(chan struct{}, 1)
		slots := s.IntakeSlots
		if slots <= 0 {
			slots = 2
		}
		s.slots = make(chan struct{}, slots)
	})
}

// Trigger asks Run for a batch run now. It never blocks: triggers that
// come while a run is waiting to start make one run.
func (s *Service) Trigger() {
	s.init()
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Run runs RunBatch every interval (0: only when triggered) and whenever
// Trigger is called, until ctx ends; then it returns nil. It first queues
// again the jobs that runs which died left PROCESSING (Recover). A run's
// errors are logged, not returned.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	s.init()
	if _, err := s.Recover(ctx); err != nil {
		s.log().Error("recover interrupted jobs", "err", err)
	}
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		case <-s.trigger:
		}
		_, err := s.RunBatch(ctx, uuid.Nil)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.log().Error("batch run", "err", err)
			failing = true
		case failing:
			s.log().Info("recovered: batch runs succeed again")
			failing = false
		}
	}
}

// Recover queues again every job that a run which died left PROCESSING,
// of every company no live run holds, and returns how many.
func (s *Service) Recover(ctx context.Context) (int, error) {
	ids, err := s.Store.Pending(ctx)
	if err != nil {
		return 0, fmt.Errorf("recover: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range ids {
		cl, err := s.Store.Claim(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cl == nil {
			continue // a live run has it
		}
		k, err := cl.Requeue(ctx, s.now())
		cl.Release()
		if err != nil {
			errs = append(errs, err)
		}
		if k > 0 {
			s.log().Warn("queued again jobs interrupted by a run that died", "company", id, "jobs", k)
		}
		n += k
	}
	return n, errors.Join(errs...)
}
