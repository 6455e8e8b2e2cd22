package api

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
	"github.com/epicsync/epic/internal/engine"
)

// jobJSON is an import job as interfaces.md §3 shows it.
type jobJSON struct {
	ID             string                  `json:"id"`
	Name           string                  `json:"name"`
	Transform      string                  `json:"transform"`
	Status         directory.JobStatus     `json:"status"`
	Started        *time.Time              `json:"started,omitempty"`
	LastUpdatedAt  *time.Time              `json:"lastUpdatedAt,omitempty"`
	FinishedAt     *time.Time              `json:"finishedAt,omitempty"`
	By             *jobBy                  `json:"by,omitempty"`
	ClientVersion  string                  `json:"clientVersion,omitempty"`
	TotalCount     int                     `json:"totalCount"`
	ProcessedCount int                     `json:"processedCount"`
	SupersededBy   *string                 `json:"supersededBy"`
	Manifest       directory.JobManifest   `json:"manifest"`
	Summary        []directory.SummaryLine `json:"summary"`
	Links          links                   `json:"links"`
}

type jobBy struct {
	ID         string `json:"id,omitempty"`
	TargetName string `json:"targetName"`
}

type links struct {
	Self string `json:"self"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// jobOut makes the JSON of j; by maps uploaders' logins to their IDs.
func jobOut(j *directory.Job, byID map[string]string) jobJSON {
	out := jobJSON{
		ID: j.ID.String(), Name: j.Name, Transform: "EPIC", Status: j.Status,
		Started: timePtr(j.Started), LastUpdatedAt: timePtr(j.Updated), FinishedAt: timePtr(j.Finished),
		ClientVersion: j.ClientVersion, TotalCount: j.Total, ProcessedCount: j.Processed,
		Manifest: j.Manifest, Summary: j.Summary,
		Links: links{Self: "/api/xm/1/imports/" + j.ID.String()},
	}
	if out.Manifest.DeviceNamesToIgnore == nil {
		out.Manifest.DeviceNamesToIgnore = []string{}
	}
	if out.Summary == nil {
		out.Summary = []directory.SummaryLine{}
	}
	if j.By != "" {
		out.By = &jobBy{ID: byID[strings.ToLower(j.By)], TargetName: j.By}
	}
	if j.SupersededBy != uuid.Nil {
		s := j.SupersededBy.String()
		out.SupersededBy = &s
	}
	return out
}

// uploaders maps the logins that uploaded the jobs to the IDs of those
// users of the company (jobs made otherwise, e.g. by epicd apply, have
// none).
func (s *server) uploaders(r *http.Request, c *call, jobs ...*directory.Job) map[string]string {
	m := map[string]string{}
	for _, j := range jobs {
		k := strings.ToLower(j.By)
		if _, ok := m[k]; ok || j.By == "" {
			continue
		}
		m[k] = ""
		if strings.EqualFold(j.By, c.user.Login) {
			m[k] = c.user.ID.String()
			continue
		}
		if u, _, err := s.Store.UserByLogin(r.Context(), j.By); err == nil && u.CompanyID == c.company.ID {
			m[k] = u.ID.String()
		}
	}
	return m
}

func (s *server) imports(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	jobs, total, err := s.Store.ReadJobs(r.Context(), c.company.ID, p.offset, p.limit)
	if err != nil {
		return err
	}
	by := s.uploaders(r, c, jobs...)
	out := make([]jobJSON, len(jobs))
	for i, j := range jobs {
		out[i] = jobOut(j, by)
	}
	writeJSON(w, http.StatusOK, newList(r, p, out, total))
	return nil
}

// job finds the company's job of the path's id.
func (s *server) job(r *http.Request, c *call) (*directory.Job, error) {
	id, err := uuid.Parse(c.params[0])
	if err != nil {
		return nil, notFound("no import job %q", c.params[0])
	}
	j, err := s.Store.Job(r.Context(), c.company.ID, id)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, notFound("no import job %q", c.params[0])
	}
	return j, err
}

func (s *server) importJob(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := s.job(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, jobOut(j, s.uploaders(r, c, j)))
	return nil
}

func (s *server) importMessages(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	j, err := s.job(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, window(j.Details, p), len(j.Details)))
	return nil
}

type rowJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	RowKey  string `json:"rowKey"`
	Outcome string `json:"outcome"`
}

func (s *server) importRows(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	j, err := s.job(r, c)
	if err != nil {
		return err
	}
	var out []rowJSON
	total := 0
	err = engine.EachRowResult(j, func(rr engine.RowResult) error {
		if total >= p.offset && len(out) < p.limit {
			line, _ := strconv.Atoi(rr.Line)
			out = append(out, rowJSON{File: rr.File, Line: line, RowKey: rr.Key, Outcome: rr.Outcome})
		}
		total++
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, out, total))
	return nil
}

// cell escapes a CSV value that a spreadsheet would run as a formula.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *server) importReport(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := s.job(r, c)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+j.ID.String()+`.csv"`)
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	dur := ""
	if !j.Finished.IsZero() {
		dur = strconv.FormatFloat(j.Finished.Sub(j.Started).Seconds(), 'f', 3, 64)
	}
	cw.Write([]string{"JOB", "NAME", "STATUS", "STARTED", "FINISHED", "DURATION_SECONDS", "BY", "CLIENT_VERSION",
		"MANIFEST_VERSION", "MIRROR", "IGNORE_DEVICE_ORDER_AND_DELAY", "DEVICE_NAMES_TO_IGNORE"})
	cw.Write([]string{j.ID.String(), cell(j.Name), string(j.Status), ts(j.Started), ts(j.Finished), dur, cell(j.By),
		cell(j.ClientVersion), cell(j.Manifest.Version), strconv.FormatBool(j.Manifest.Mirror),
		strconv.FormatBool(j.Manifest.IgnoreDeviceOrderAndDelay), cell(strings.Join(j.Manifest.DeviceNamesToIgnore, "|"))})
	cw.Write(nil)
	cw.Write([]string{"SYNCHRONIZER", "READ", "INSERTED", "UPDATED", "ADOPTED", "UNCHANGED", "REMOVED",
		"REMOVED_BY_MIRROR", "IGNORED", "FAILED"})
	for _, l := range j.Summary {
		cw.Write([]string{cell(l.Synchronizer), strconv.Itoa(l.Read), strconv.Itoa(l.Inserted), strconv.Itoa(l.Updated),
			strconv.Itoa(l.Adopted), strconv.Itoa(l.Unchanged), strconv.Itoa(l.Removed), strconv.Itoa(l.RemovedByMirror),
			strconv.Itoa(l.Ignored), strconv.Itoa(l.Failed)})
	}
	cw.Write(nil)
	cw.Write([]string{"SYNCHRONIZER", "EVENT_TYPE", "STATUS", "LEVEL", "TIME", "FILE", "LINE", "ROW_KEY", "FIELD",
		"VALUE", "MESSAGE"})
	for _, d := range j.Details {
		line := ""
		if d.Line > 0 {
			line = strconv.Itoa(d.Line)
		}
		cw.Write([]string{cell(d.Synchronizer), cell(d.Event), cell(d.Status), cell(d.Level), ts(d.Time), cell(d.File),
			line, cell(d.RowKey), cell(d.Field), cell(d.Value), cell(d.Message)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil // the client went away; the status is sent
	}
	bw.Flush()
	return nil
}

// decide answers approve and reject of a HELD job (processing.md §6):
// approve queues it again, to be applied as it is (a batch run is
// triggered when this service runs a scheduler); reject ends it REJECTED.
func (s *server) decide(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := s.job(r, c)
	if err != nil {
		return err
	}
	approve := strings.HasSuffix(r.URL.Path, "/approve")
	d, err := s.Store.Decide(r.Context(), c.company.ID, j.ID, approve, c.user.Login, time.Now().UTC())
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return notFound("no import job %q", c.params[0])
	case errors.Is(err, directory.ErrNotHeld):
		cur, gerr := s.Store.Job(r.Context(), c.company.ID, j.ID)
		if gerr == nil {
			j = cur
		}
		return errorf(http.StatusConflict, "import job %s is %s, not HELD: only a HELD job can be approved or rejected", j.ID, j.Status)
	case err != nil:
		return err
	}
	if approve && s.Trigger != nil {
		s.Trigger()
	}
	writeJSON(w, http.StatusOK, jobOut(d, s.uploaders(r, c, d)))
	return nil
}

func (s *server) batchRun(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.Trigger == nil {
		return errorf(http.StatusServiceUnavailable, "this service runs no batch scheduler")
	}
	s.Trigger()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "triggered"})
	return nil
}

// idleReader sets the connection's read deadline before every read, so
// that an upload ends when its client sends nothing for idle, however
// long the whole upload takes.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	now  func() time.Time
}

func (d *idleReader) Read(p []byte) (int, error) {
	_ = d.rc.SetReadDeadline(d.now().Add(d.idle)) // not supported: no deadline
	return d.r.Read(p)
}

// limitReader reads at most n bytes of r, and fails with errTooLarge past
// them.
type limitReader struct {
	r io.Reader
	n int64
}

var errPartTooLarge = errors.New("file part too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errPartTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, errPartTooLarge
	}
	return n, err
}

// uploadError turns an error of reading the upload into an API error.
func (s *server) uploadError(err error) error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe), errors.Is(err, errPartTooLarge), errors.Is(err, s.ErrTooLarge), errors.Is(err, ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "the archive is larger than this service accepts (%d bytes)", s.MaxUpload)
	case errors.As(err, &ne) && ne.Timeout():
		return errorf(http.StatusRequestTimeout, "the upload stalled: nothing arrived for %s", s.UploadIdleTimeout)
	}
	return nil
}

func (s *server) upload(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.Intake == nil {
		return errorf(http.StatusServiceUnavailable, "this service takes no uploads: it runs without a queue")
	}
	if !c.company.EpicEnabled {
		return errorf(http.StatusForbidden, "company %q is not enabled for EPIC: uploads are refused until the service's operator enables it", c.company.Name)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return badRequest("send the archive as multipart/form-data with a part named \"file\" (Content-Type was %q)", r.Header.Get("Content-Type"))
	}
	rc := http.NewResponseController(w)
	// On failure the connection closes, and its read deadline stays: the
	// server must not wait for the rest of a body it will not read.
	w.Header().Set("Connection", "close")
	// Room for the form's headers and small other parts beside the file.
	body := http.MaxBytesReader(w, r.Body, s.MaxUpload+1<<20)
	mr := multipart.NewReader(&idleReader{r: body, rc: rc, idle: s.UploadIdleTimeout, now: s.Now}, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return badRequest("the form has no part named \"file\": send the archive in a part named \"file\"")
		}
		if err != nil {
			if e := s.uploadError(err); e != nil {
				return e
			}
			return badRequest("read the multipart form: %v", err)
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				if e := s.uploadError(err); e != nil {
					return e
				}
				return badRequest("read the multipart form: %v", err)
			}
			continue
		}
		name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "." || name == "/" || name == "" {
			name = "upload.zip"
		}
		ua := r.UserAgent()
		if len(ua) > 200 {
			ua = ua[:200]
		}
		job, err := s.Intake.Intake(r.Context(), c.company, name, c.user.Login, ua, &limitReader{r: part, n: s.MaxUpload})
		if err != nil {
			if e := s.uploadError(err); e != nil {
				return e
			}
			switch {
			case errors.Is(err, s.ErrInvalidArchive) || errors.Is(err, ErrInvalidArchive):
				e := badRequest("the archive is invalid: %v", err)
				if job != nil {
					s.Metrics.jobs.WithLabelValues(string(job.Status)).Inc()
					e.Job = jobOut(job, map[string]string{strings.ToLower(c.user.Login): c.user.ID.String()})
					e.Findings = job.Details
					e.Message = "the archive is invalid (nothing was queued): " + err.Error() + "; the findings are below and at /api/xm/1/imports/" + job.ID.String() + "/import-messages"
				}
				return e
			case errors.Is(err, s.ErrNotEnabled) || errors.Is(err, ErrNotEnabled):
				return errorf(http.StatusForbidden, "company %q is not enabled for EPIC: uploads are refused until the service's operator enables it", c.company.Name)
			}
			return err
		}
		_ = rc.SetReadDeadline(time.Time{})
		w.Header().Del("Connection")
		s.Metrics.jobs.WithLabelValues(string(job.Status)).Inc()
		s.log.Info("archive queued", "company", c.company.Name, "job", job.ID, "name", name, "by", c.user.Login, "client", ua)
		writeJSON(w, http.StatusAccepted, jobOut(job, map[string]string{strings.ToLower(c.user.Login): c.user.ID.String()}))
		return nil
	}
}
