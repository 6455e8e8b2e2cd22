package engine

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/archive"
	"github.com/epicsync/epic/internal/directory"
)

// Engine applies archives to directories in a Store.
type Engine struct {
	Store  directory.Store
	Limits archive.Limits
	Now    func() time.Time // nil: time.Now
}

// Job describes who asked for the job; Apply fills in the rest.
type Job struct {
	ID            uuid.UUID // uuid.Nil: a new one
	By            string
	ClientVersion string
	// Approved skips the safety gate: an administrator approved the job
	// the gate held (processing.md §6).
	Approved bool
}

// ErrInvalidArchive is wrapped by Apply's error when the archive has
// archive-level problems; the returned job is FAILED and lists them.
var ErrInvalidArchive = errors.New("invalid archive")

// Row outcomes (processing.md §5).
const (
	Inserted  = "INSERTED"
	Updated   = "UPDATED"
	Adopted   = "ADOPTED"
	Unchanged = "UNCHANGED"
	Removed   = "REMOVED"
	Ignored   = "IGNORED"
	Failed    = "FAILED"
)

// maxArchiveFindings bounds the archive-level findings a FAILED job lists.
const maxArchiveFindings = 1000

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Apply validates the archive at path and applies it to the company in one
// transaction. It returns the finished job, which it also stores. An
// archive with archive-level problems changes nothing: the job is FAILED
// and the error wraps ErrInvalidArchive.
func (e *Engine) Apply(ctx context.Context, company *directory.Company, path string, req Job) (*directory.Job, error) {
	job := &directory.Job{ID: req.ID, CompanyID: company.ID, Name: filepath.Base(path), Status: directory.JobProcessing,
		By: req.By, ClientVersion: req.ClientVersion, Started: e.now()}
	if job.ID == uuid.Nil {
		job.ID = newID()
	}
	// Pass 1: validate, keeping row-level errors to fail those rows.
	rowErrs := map[rowRef][]archive.Finding{}
	var archiveErrs []archive.Finding
	res, err := archive.ValidateZip(path, archive.Options{Limits: e.Limits, Sink: func(f archive.Finding) {
		switch {
		case f.ArchiveLevel():
			if len(archiveErrs) < maxArchiveFindings {
				archiveErrs = append(archiveErrs, f)
			}
		case f.Severity == archive.Error && f.Line > 0:
			k := rowRef{strings.ToUpper(f.File), f.Line}
			rowErrs[k] = append(rowErrs[k], f)
		}
	}})
	if err != nil {
		return nil, err
	}
	job.Manifest = jobManifest(res.Manifest)
	job.Total = res.Rows()
	if len(archiveErrs) > 0 {
		job.Status = directory.JobFailed
		for _, f := range archiveErrs {
			job.Details = append(job.Details, directory.Detail{Synchronizer: "ARCHIVE", Event: string(f.Code), Status: "FAILURE",
				Level: "ARCHIVE", Time: job.Started, File: f.File, Line: f.Line, Field: f.Column, Value: f.Value, Message: f.Message})
		}
		job.Finished, job.Updated = e.now(), e.now()
		if err := e.Store.SaveJob(ctx, job); err != nil {
			return nil, err
		}
		return job, fmt.Errorf("%w: %s", ErrInvalidArchive, archiveErrs[0].String())
	}
	a, err := archive.OpenZip(path, e.Limits)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	// Pass 2: apply, in one transaction.
	var held []string
	err = e.Store.Update(ctx, company.ID, func(tx directory.Tx) error {
		r, err := newRun(e, company, res, a, tx, rowErrs, job)
		if err != nil {
			return err
		}
		defer func() {
			if r.x != nil {
				r.x.free()
			}
		}()
		if err := r.apply(); err != nil {
			return err
		}
		had := r.x.had
		r.finish()
		if !req.Approved {
			if held = gate(company.Config.Limits, r.man.Version, r.man.Mirror, had, r.summary, r.keepPeople); held != nil {
				return errHeld
			}
		}
		if req.Approved {
			job.Details = append(job.Details, directory.Detail{Synchronizer: "SAFETY", Event: directory.EventApproved,
				Status: "WARNING", Level: "ARCHIVE", Time: e.now(), Message: "an administrator approved the job: the safety limits were not checked"})
		}
		return tx.SaveJob(job)
	})
	if errors.Is(err, errHeld) {
		// Nothing was committed; the report says what the job would do.
		job.Status = directory.JobHeld
		job.Finished = time.Time{}
		for _, m := range held {
			job.Details = append(job.Details, directory.Detail{Synchronizer: "SAFETY", Event: directory.EventSafetyLimit,
				Status: "WARNING", Level: "ARCHIVE", Time: e.now(), Message: m + "; nothing was changed: an administrator approves or rejects the job"})
		}
		if err := e.Store.SaveJob(ctx, job); err != nil {
			return nil, err
		}
		return job, nil
	}
	if err != nil {
		return nil, err
	}
	return job, nil
}

func jobManifest(m archive.Manifest) directory.JobManifest {
	return directory.JobManifest{Version: string(m.Version), Mirror: m.Mirror, DeviceNamesToIgnore: m.DeviceNamesToIgnore,
		IgnoreDeviceOrderAndDelay: m.IgnoreDeviceOrderAndDelay, ForceNewPasswordReset: m.ForceNewPasswordReset}
}

type rowRef struct {
	file string // upper-cased file name
	line int
}

// run is the state of one job's apply.
type run struct {
	e       *Engine
	company *directory.Company
	cfg     directory.Config
	man     archive.Manifest
	a       *archive.Archive
	tx      directory.Tx
	x       *index
	rowErrs map[rowRef][]archive.Finding
	job     *directory.Job

	summary  map[string]*directory.SummaryLine
	rows     *csv.Writer
	rowsBuf  chunks
	rowsOf   map[string]int // rows of each file (by layout name)
	sizes    sizes
	rowsGzip *gzip.Writer
	failed   map[string]map[string]int  // file -> external key -> line of a failed row
	applied  map[string]map[string]bool // file -> external keys of rows that succeeded
	// failedSites maps the folded SITENAME of a failed site row to its line:
	// people name sites by name, not key.
	failedSites     map[string]int
	named           namedKeys
	removals        []removal
	failedSiteLines map[int]bool // lines of DS_SITES rows that failed
	dels            deletes
	// newDevices are the IDs of the devices this job inserts, by type and
	// key (the index holds only the devices the company had).
	newDevices map[directory.DeviceType]map[string]uuid.UUID
	// deviceMembers are the device keys the memberships file names.
	deviceMembers map[directory.DeviceType]map[string]bool
	replaced      map[uuid.UUID]bool // shifts that DS_TEAMS upserted: their members come from the file
	ignore        map[string]bool    // lower-cased device names to ignore
	keepPeople    int                // DS_USERS rows with ACTION=Y (the safety gate)
}

type removal struct {
	layout *archive.Layout
	line   int
	key    string
	vals   map[string]string // memberships only: the columns that name the member
}

func newRun(e *Engine, company *directory.Company, res *archive.Result, a *archive.Archive, tx directory.Tx, rowErrs map[rowRef][]archive.Finding, job *directory.Job) (*run, error) {
	m := res.Manifest
	var n sizes
	for _, f := range res.Files {
		switch {
		case f.Layout == nil:
		case f.Layout.Name == archive.FileUsers:
			n.people += f.Rows
		case f.Layout.DeviceType != "":
			n.devices += f.Rows
		case f.Layout.Name == archive.FileCustomValues:
			n.customs += f.Rows
		}
	}
	rowsOf := map[string]int{}
	for _, f := range res.Files {
		if f.Layout != nil {
			rowsOf[f.Layout.Name] += f.Rows
		}
	}
	x, err := loadIndex(tx, n)
	if err != nil {
		x.free()
		return nil, fmt.Errorf("load the directory: %w", err)
	}
	r := &run{e: e, company: company, cfg: company.Config, man: m, a: a, tx: tx, x: x, rowErrs: rowErrs, job: job,
		summary: map[string]*directory.SummaryLine{}, failed: map[string]map[string]int{}, rowsOf: rowsOf, sizes: n,
		named:   namedKeys{seed: maphash.MakeSeed(), files: map[string]map[uint64]struct{}{}, rowsOf: rowsOf},
		applied: map[string]map[string]bool{}, failedSites: map[string]int{}, failedSiteLines: map[int]bool{},
		ignore: map[string]bool{}}
	r.newDevices = map[directory.DeviceType]map[string]uuid.UUID{}
	for _, t := range directory.DeviceTypes {
		r.newDevices[t] = map[string]uuid.UUID{}
	}
	for _, n := range m.DeviceNamesToIgnore {
		r.ignore[fold(n)] = true
	}
	// BestSpeed: a million outcomes compress to a few MB either way, and
	// the default level costs seconds.
	r.rowsGzip, _ = gzip.NewWriterLevel(&r.rowsBuf, gzip.BestSpeed)
	r.rows = csv.NewWriter(r.rowsGzip)
	r.rows.Write([]string{"FILE", "LINE", "KEY", "OUTCOME"})
	return r, nil
}

// synchronizer names a file's part of the batch run: DS_USERS.csv -> DS_USERS.
func synchronizer(l *archive.Layout) string { return strings.TrimSuffix(l.Name, ".csv") }

func (r *run) line(l *archive.Layout) *directory.SummaryLine {
	name := synchronizer(l)
	s := r.summary[name]
	if s == nil {
		s = &directory.SummaryLine{Synchronizer: name}
		r.summary[name] = s
	}
	return s
}

// outcome records a row's outcome in the summary and the row results.
func (r *run) outcome(l *archive.Layout, line int, key, outcome string) {
	s := r.line(l)
	switch outcome {
	case Inserted:
		s.Inserted++
	case Updated:
		s.Updated++
	case Adopted:
		s.Adopted++
	case Unchanged:
		s.Unchanged++
	case Removed:
		s.Removed++
	case Ignored:
		s.Ignored++
	case Failed:
		s.Failed++
	}
	if outcome != Failed && outcome != Ignored && key != "" && r.cascadeSource(l, key) {
		if r.applied[l.Name] == nil {
			r.applied[l.Name] = map[string]bool{}
		}
		r.applied[l.Name][key] = true
	}
	r.job.Processed++
	r.rows.Write([]string{l.Name, strconv.Itoa(line), key, outcome})
}

// detail records a warning or failure.
func (r *run) detail(l *archive.Layout, line int, key, status, level, event, field, value, msg string) {
	r.job.Details = append(r.job.Details, directory.Detail{Synchronizer: synchronizer(l), Event: event, Status: status, Level: level,
		Time: r.e.now(), File: l.Name, Line: line, RowKey: key, Field: field, Value: value, Message: msg})
}

// fail records a row failure and remembers the key for cascades.
func (r *run) fail(l *archive.Layout, line int, key, event, field, value, msg string) {
	r.detail(l, line, key, "FAILURE", "ROW", event, field, value, msg)
	if l.Name == archive.FileSites {
		r.failedSiteLines[line] = true // named in failedSites once the file is read
	}
	if key != "" {
		if r.failed[l.Name] == nil {
			r.failed[l.Name] = map[string]int{}
		}
		r.failed[l.Name][key] = line
	}
	r.outcome(l, line, key, Failed)
}

// warn records a field-level warning; the row goes on without the field.
func (r *run) warn(l *archive.Layout, line int, key, event, field, value, msg string) {
	r.detail(l, line, key, "WARNING", "FIELD", event, field, value, msg)
}

// dependency explains a missing reference: a failed row of this archive, or
// nothing anywhere. It returns the event code and message.
func (r *run) dependency(file, key, what string) (string, string) {
	if line, ok := r.failed[file][key]; ok {
		return "DEPENDENCY_FAILED", fmt.Sprintf("%s %q failed at %s line %d, so this row fails too", what, key, file, line)
	}
	return "UNKNOWN_REFERENCE", fmt.Sprintf("%s %q is neither in this archive nor in the company", what, key)
}

// cascadeSource reports whether a later row may depend on the row of l
// with the key, so that its success must be remembered here: sites,
// groups and shifts, and the devices that memberships name (people's
// entries remember theirs). A million people have millions of other
// keys that nothing asks about.
func (r *run) cascadeSource(l *archive.Layout, key string) bool {
	switch {
	case l.Name == archive.FileSites, l.Name == archive.FileGroups, l.Name == archive.FileTeams:
		return true
	case l.DeviceType != "":
		return r.deviceMembers[directory.DeviceType(l.DeviceType)][key]
	}
	return false
}

// cascades reports whether a reference to key of file must fail because
// this archive's row for it failed (and no row for it succeeded), even
// when the company has the object: the row depended on what the archive
// said about it (processing.md §4, cascade).
func (r *run) cascades(file, key string) bool {
	_, failed := r.failed[file][key]
	if !failed {
		return false
	}
	if file == archive.FileUsers {
		p := r.x.personByKey(key)
		return p == nil || !p.applied
	}
	return !r.applied[file][key]
}

// name records that a row of l named key, so mirror spares that object.
// Only mirror asks, so only mirror records.
//
// The big files (people, devices, custom values: millions of keys) mark
// the entry of the object the company has instead (named): mirror sweeps
// nothing else. A person this job inserts is spared by the sweep as new,
// and an object that a row adopts is marked when it is.
func (r *run) name(l *archive.Layout, key string) {
	if key == "" || !r.man.Mirror {
		return
	}
	switch {
	case l.Name == archive.FileUsers:
		if e := r.x.personByKey(key); e != nil {
			e.named = true
		}
	case l.DeviceType != "":
		if e := r.x.deviceByKey(directory.DeviceType(l.DeviceType), key); e != nil {
			e.named = true
		}
	case l.Name == archive.FileCustomValues:
		if e := r.x.customByKey(key); e != nil {
			e.named = true
		}
	default:
		r.named.add(l.Name, key)
	}
}

// namedKeys are the keys that rows of the small files named, per file,
// as 64-bit hashes. A collision can only make
// mirror spare an object it would have removed, never the reverse.
type namedKeys struct {
	seed   maphash.Seed
	files  map[string]map[uint64]struct{}
	rowsOf map[string]int // room to make
}

func (n namedKeys) add(file, key string) {
	set := n.files[file]
	if set == nil {
		set = make(map[uint64]struct{}, n.rowsOf[file])
		n.files[file] = set
	}
	set[maphash.String(n.seed, key)] = struct{}{}
}

func (n namedKeys) has(file, key string) bool {
	_, ok := n.files[file][maphash.String(n.seed, key)]
	return ok
}

// each reads the rows of l and sorts them by ACTION: upserts go to fn,
// removals wait for the removal phase, everything else is IGNORED. Rows
// with validation errors fail here with the validator's message.
func (r *run) each(l *archive.Layout, keyOf func(*archive.Row) string, fn func(row *archive.Row, key string) error) error {
	r.line(l) // every file of the archive has a summary line
	file := strings.ToUpper(l.Name)
	return r.a.Rows(l, func(row *archive.Row) error {
		r.line(l).Read++
		key := keyOf(row)
		r.name(l, key)
		action := row.Value("ACTION")
		if action == "Y" && l.Name == archive.FileUsers {
			r.keepPeople++
		}
		if action != "Y" && action != "R" {
			r.detail(l, row.Line, key, "WARNING", "ROW", "IGNORED_ROW", "ACTION", action, "ACTION is neither Y nor R; the row is ignored")
			r.outcome(l, row.Line, key, Ignored)
			return nil
		}
		if action == "R" && r.man.Mirror {
			r.detail(l, row.Line, key, "WARNING", "ROW", "IGNORED_ROW", "ACTION", "R", "mirror=Y ignores ACTION=R rows")
			r.outcome(l, row.Line, key, Ignored)
			return nil
		}
		if errs := r.rowErrs[rowRef{file, row.Line}]; len(errs) > 0 {
			f := errs[0]
			r.fail(l, row.Line, key, string(f.Code), f.Column, f.Value, f.Message)
			return nil
		}
		if action == "R" {
			rm := removal{layout: l, line: row.Line, key: key}
			if l.Name == archive.FileMemberships {
				rm.vals = map[string]string{}
				for _, c := range []string{"TEAM_KEY", "MEMBER_TYPE", "MEMBER_KEY", "MEMBER_SUB_TYPE"} {
					rm.vals[c] = row.Value(c)
				}
			}
			r.removals = append(r.removals, rm)
			return nil
		}
		return fn(row, key)
	})
}

func externalKey(row *archive.Row) string { return row.Value("EXTERNAL_KEY") }

// finish closes the report.
func (r *run) finish() {
	r.rows.Flush()
	r.rowsGzip.Close()
	r.x.free() // a million people's entries can go before the report is joined
	r.x = nil
	r.job.Rows = r.rowsBuf.join()
	failed := 0
	for _, l := range archive.Layouts(r.man.Version) {
		if s := r.summary[synchronizer(l)]; s != nil {
			r.job.Summary = append(r.job.Summary, *s)
			failed += s.Failed
		}
	}
	r.job.Status = directory.JobCompleted
	if failed > 0 {
		r.job.Status = directory.JobCompletedWithErrors
	}
	r.job.Finished, r.job.Updated = r.e.now(), r.e.now()
}

// chunks is a growing byte buffer that never copies what it holds: the
// report of a million-person job is tens of MB, and a bytes.Buffer
// doubling holds up to three times that while it grows.
type chunks struct {
	full [][]byte
	cur  []byte
	n    int
}

const chunkSize = 1 << 20

func (c *chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.cur) == cap(c.cur) {
			if c.cur != nil {
				c.full = append(c.full, c.cur)
			}
			c.cur = make([]byte, 0, chunkSize)
		}
		k := min(len(p), cap(c.cur)-len(c.cur))
		c.cur = append(c.cur, p[:k]...)
		p = p[k:]
	}
	c.n += n
	return n, nil
}

// join returns everything written, in one slice, and empties c.
func (c *chunks) join() []byte {
	out := make([]byte, 0, c.n)
	for _, b := range c.full {
		out = append(out, b...)
	}
	out = append(out, c.cur...)
	*c = chunks{}
	return out
}

func yes(s string) bool { return s == "Y" }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// newID makes the ID of a new object. Version 7 UUIDs grow with time, so a
// job's inserts land at the end of the primary-key index instead of all
// over it (several times faster on large imports).
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
