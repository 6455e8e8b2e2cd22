package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
)

// Errors of Intake, for errors.Is.
var (
	// ErrTooLarge: the upload is larger than MaxUpload; nothing was stored.
	ErrTooLarge = errors.New("archive too large")
	// ErrInvalidArchive: the archive breaks an archive-level rule; the
	// returned job is FAILED and lists the findings.
	ErrInvalidArchive = engine.ErrInvalidArchive
	// ErrNotEnabled: the company is not enabled for EPIC; nothing was
	// stored.
	ErrNotEnabled = errors.New("the company is not enabled for EPIC")
)

// maxFindings bounds the findings a FAILED intake job lists.
const maxFindings = 1000

// Service is the queue of one service: intake, batch runs, scheduler.
type Service struct {
	Store     directory.Store
	Engine    *engine.Engine
	Log       *slog.Logger
	Now       func() time.Time // nil: time.Now
	MaxUpload int64            // bytes; 0: archive.DefaultLimits' zip size limit (150 MiB)
	TempDir   string           // where archives are staged while applied; "" os.TempDir
	// Workers is how many companies a batch run processes at once; 0: 2.
	// On PostgreSQL each takes up to two connections of the pool.
	Workers int
	// JobEnded, when set, is called with every job a batch run ends
	// (COMPLETED, COMPLETED_WITH_ERRORS, FAILED); BatchDone with the
	// duration of every batch run. The service's metrics use them.
	JobEnded  func(*directory.Job)
	BatchDone func(time.Duration)
	// IntakeSlots is how many uploads Intake holds in memory at once (to
	// check and store them); others wait, spooled to files. 0: 2.
	IntakeSlots int

	once    sync.Once
	trigger chan struct{}
	slots   chan struct{} // IntakeSlots
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) maxUpload() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return archive.DefaultLimits().MaxArchiveBytes
}

// limits are the archive limits of intake validation: the engine's, or
// the defaults when it has none.
func (s *Service) limits() archive.Limits {
	if s.Engine != nil && s.Engine.Limits != (archive.Limits{}) {
		return s.Engine.Limits
	}
	return archive.DefaultLimits()
}

// Intake reads an uploaded archive from r (at most MaxUpload bytes; more
// is ErrTooLarge and nothing is stored) and checks its archive-level rules
// (not a zip, no manifest, unsupported version, missing file or column).
// An invalid archive is stored as a FAILED job holding the findings as
// Details, returned with an error wrapping ErrInvalidArchive. A valid one
// is stored with a QUEUED job, committed durably, and the job is returned.
// name is the archive's file name (only its last element is kept), by
// who uploaded it, clientVersion the uploading client's version.
func (s *Service) Intake(ctx context.Context, company *directory.Company, name, by, clientVersion string, r io.Reader) (*directory.Job, error) {
	if !company.EpicEnabled {
		return nil, fmt.Errorf("%w: ask an administrator to enable company %q for EPIC", ErrNotEnabled, company.Name)
	}
	// The upload goes to a temporary file first: a slow client holds a
	// file, not memory. Only IntakeSlots uploads at once are then read
	// into memory to be checked and stored.
	max := s.maxUpload()
	spool, err := os.CreateTemp(s.TempDir, "epic-upload-")
	if err != nil {
		return nil, fmt.Errorf("spool the upload: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	n, err := io.Copy(spool, io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read the upload: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("%w: the upload is larger than the limit of %d bytes (%d MiB); split the export or raise the limit", ErrTooLarge, max, max>>20)
	}
	s.init()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	data := make([]byte, n)
	if _, err := spool.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fmt.Errorf("read the spooled upload: %w", err)
	}
	now := s.now()
	job := &directory.Job{ID: uuid.Must(uuid.NewV7()), CompanyID: company.ID, Name: CleanName(name), Status: directory.JobQueued,
		By: by, ClientVersion: clientVersion, Started: now, Updated: now}
	var bad []archive.Finding
	res, err := archive.ValidateZipReader(bytes.NewReader(data), int64(len(data)), archive.Options{Limits: s.limits(),
		Sink: func(f archive.Finding) {
			if f.ArchiveLevel() && len(bad) < maxFindings {
				bad = append(bad, f)
			}
		}})
	if err != nil {
		return nil, fmt.Errorf("check the upload: %w", err)
	}
	job.Manifest = directory.JobManifest{Version: string(res.Manifest.Version), Mirror: res.Manifest.Mirror,
		DeviceNamesToIgnore: res.Manifest.DeviceNamesToIgnore, IgnoreDeviceOrderAndDelay: res.Manifest.IgnoreDeviceOrderAndDelay,
		ForceNewPasswordReset: res.Manifest.ForceNewPasswordReset}
	job.Total = res.Rows()
	if len(bad) > 0 {
		job.Status, job.Finished = directory.JobFailed, now
		for _, f := range bad {
			job.Details = append(job.Details, directory.Detail{Synchronizer: "ARCHIVE", Event: string(f.Code), Status: "FAILURE",
				Level: "ARCHIVE", Time: now, File: f.File, Line: f.Line, Field: f.Column, Value: f.Value, Message: f.Message})
		}
		if err := s.Store.SaveJob(ctx, job); err != nil {
			return nil, fmt.Errorf("save the failed job: %w", err)
		}
		s.log().Info("upload refused", "company", company.Name, "job", job.ID, "name", job.Name, "findings", len(bad))
		return job, fmt.Errorf("%w: %s", ErrInvalidArchive, bad[0].String())
	}
	if err := s.Store.Enqueue(ctx, job, data); err != nil {
		return nil, err
	}
	s.log().Info("upload queued", "company", company.Name, "job", job.ID, "name", job.Name, "bytes", len(data), "rows", job.Total)
	return job, nil
}

// maxName bounds a job name in bytes (a file name on most file systems).
const maxName = 200

// CleanName is the job name of an uploaded file name: its last path
// element (either slash), without control characters and invalid UTF-8,
// cut to 200 bytes; "archive.zip" when nothing is left. A batch run
// stages the archive under this name, so it is a safe file name.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ':' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > maxName {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" || name == "." || name == ".." || name == "/" {
		return "archive.zip"
	}
	return name
}
