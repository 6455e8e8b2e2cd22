// Package clienttest is a fake of epicd's HTTP API for fast tests of the
// client and of the epic commands: HTTPS on loopback (httptest), HTTP
// Basic users, uploads that become jobs which end after a few polls, and
// the JSON shapes of interfaces.md §3 written out here independently of
// the client's own types, so a mismatch shows in tests.
//
// It is a fake beside the real thing: end-to-end tests use epicd serve.
// It must never be imported by non-test code.
package clienttest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a running fake service.
type Server struct {
	*httptest.Server

	mu sync.Mutex
	// Users maps login to password; every path but the version needs one.
	Users map[string]string
	// Version is what GET /api/epic/1/version answers.
	Version Version
	// Final is the status an uploaded job ends in (default COMPLETED).
	Final string
	// Polls is how many GETs of a job it takes to end (default 2: the
	// first shows PROCESSING, the second the final status).
	Polls int
	// Fail503 makes the next N requests (any path) answer 503.
	Fail503 int
	// PageSize is the default page size of lists (default 100).
	PageSize int

	jobs     []*job // oldest first
	requests []Request
	seq      int
}

// Version is the version endpoint's answer.
type Version struct {
	Version          string   `json:"version"`
	ArchiveVersions  []string `json:"archiveVersions"`
	MinClientVersion string   `json:"minClientVersion"`
}

// Request is what the fake saw of one request.
type Request struct {
	Method, Path, UserAgent, User string
	Bytes                         int64 // body bytes read
}

// Start starts a fake with the user epic-uploader / secret.
func Start() *Server {
	s := &Server{
		Users:    map[string]string{"epic-uploader": "secret"},
		Version:  Version{Version: "1.0.0", ArchiveVersions: []string{"1.0", "1.1", "1.2", "1.3"}, MinClientVersion: "0.1.0-dev"},
		Final:    "COMPLETED",
		Polls:    2,
		PageSize: 100,
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // an untrusting client's handshake failure is expected
	s.StartTLS()
	return s
}

// WriteCA writes the fake's self-signed certificate as PEM, for ca_file.
func (s *Server) WriteCA(path string) error {
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return os.WriteFile(path, b, 0o644)
}

// Requests returns what the fake has seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Set changes a setting by name, for testscript's fake command:
// final STATUS, polls N, fail503 N, versions V..., minclient V,
// serverversion V, pagesize N.
func (s *Server) Set(key string, args ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	one := func() (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("fake %s takes one value", key)
		}
		return args[0], nil
	}
	num := func() (int, error) {
		v, err := one()
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(v)
	}
	var err error
	switch key {
	case "final":
		s.Final, err = one()
	case "polls":
		s.Polls, err = num()
	case "fail503":
		s.Fail503, err = num()
	case "pagesize":
		s.PageSize, err = num()
	case "versions":
		s.Version.ArchiveVersions = append([]string{}, args...)
	case "minclient":
		s.Version.MinClientVersion, err = one()
	case "serverversion":
		s.Version.Version, err = one()
	default:
		return fmt.Errorf("fake: unknown setting %q (final, polls, fail503, pagesize, versions, minclient, serverversion)", key)
	}
	return err
}

type job struct {
	ID, Name, Status, By, ClientVersion string
	Started, Updated, Finished          time.Time
	Total, Processed, polls             int
	Files                               map[string]int // DS file -> rows
	Findings                            []map[string]any
	Final                               string
	Polls                               int
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	cr := &countingReader{r: r.Body}
	r.Body = cr
	user, pass, _ := r.BasicAuth()
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, UserAgent: r.UserAgent(), User: user, Bytes: cr.n})
		s.mu.Unlock()
	}()
	s.mu.Lock()
	if s.Fail503 > 0 {
		s.Fail503--
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "the fake is told to fail")
		return
	}
	s.mu.Unlock()
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "/api/epic/1/version" && r.Method == http.MethodGet {
		s.mu.Lock()
		v := s.Version
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, v)
		return
	}
	s.mu.Lock()
	want, known := s.Users[user]
	s.mu.Unlock()
	if !known || want != pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="epicd"`)
		writeError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	switch {
	case path == "/api/xm/1/uploads/epic-v1":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		s.upload(w, r, user)
	case path == "/api/xm/1/imports" && r.Method == http.MethodGet:
		s.list(w, r)
	case strings.HasPrefix(path, "/api/xm/1/imports/"):
		rest := strings.Split(strings.TrimPrefix(strings.TrimSuffix(r.URL.EscapedPath(), "/"), "/api/xm/1/imports/"), "/")
		for i, seg := range rest {
			rest[i], _ = url.PathUnescape(seg)
		}
		s.mu.Lock()
		j := s.find(rest[0])
		s.mu.Unlock()
		if j == nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no import job %q", rest[0]))
			return
		}
		sub := ""
		if len(rest) > 1 {
			sub = strings.Join(rest[1:], "/")
		}
		s.jobPath(w, r, j, sub)
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %s", r.URL.Path))
	}
}

func (s *Server) find(id string) *job {
	for _, j := range s.jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, user string) {
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "want a multipart form with the part file: "+err.Error())
		return
	}
	var data []byte
	name := ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad multipart form: "+err.Error())
			return
		}
		if p.FormName() == "file" {
			name = p.FileName()
			if data, err = io.ReadAll(p); err != nil {
				writeError(w, http.StatusBadRequest, "read the part file: "+err.Error())
				return
			}
		}
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, "the form has no part named file")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	now := time.Date(2026, 12, 4, 19, 0, s.seq, 0, time.UTC)
	j := &job{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq), Name: name, Status: "QUEUED", By: user,
		ClientVersion: r.UserAgent(), Started: now, Updated: now, Files: map[string]int{}, Final: s.Final, Polls: s.Polls,
	}
	s.jobs = append(s.jobs, j)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err == nil {
		hasManifest := false
		for _, f := range zr.File {
			if f.Name == "manifest.xml" {
				hasManifest = true
			}
			if strings.HasPrefix(f.Name, "DS_") && strings.HasSuffix(f.Name, ".csv") {
				rc, err := f.Open()
				if err != nil {
					continue
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				n := max(bytes.Count(b, []byte("\n"))-1, 0)
				j.Files[strings.TrimSuffix(f.Name, ".csv")] = n
				j.Total += n
			}
		}
		if !hasManifest {
			j.Findings = append(j.Findings, finding("manifest.xml", "MISSING_MANIFEST", "the archive has no manifest.xml"))
		}
	} else {
		j.Findings = append(j.Findings, finding("", "NOT_A_ZIP", "the upload is not a zip archive"))
	}
	if len(j.Findings) > 0 {
		j.Status, j.Finished = "FAILED", now
		writeJSON(w, http.StatusBadRequest, j.view())
		return
	}
	writeJSON(w, http.StatusAccepted, j.view())
}

func finding(file, code, msg string) map[string]any {
	return map[string]any{"file": file, "severity": "ERROR", "code": code, "message": msg}
}

// advance moves a job on by one poll.
func (j *job) advance() {
	if j.Status != "QUEUED" && j.Status != "PROCESSING" {
		return
	}
	j.polls++
	j.Updated = j.Updated.Add(time.Second)
	switch {
	case j.polls >= j.Polls:
		j.Status, j.Processed, j.Finished = j.Final, j.Total, j.Updated
	default:
		j.Status, j.Processed = "PROCESSING", j.Total/2
	}
}

// view is the job's JSON as interfaces.md §3 writes it.
func (j *job) view() map[string]any {
	v := map[string]any{
		"id": j.ID, "name": j.Name, "transform": "EPIC", "status": j.Status,
		"started": j.Started.Format(time.RFC3339), "lastUpdatedAt": j.Updated.Format(time.RFC3339),
		"by":            map[string]any{"id": "11111111-1111-4111-8111-111111111111", "targetName": j.By},
		"clientVersion": j.ClientVersion, "totalCount": j.Total, "processedCount": j.Processed,
		"supersededBy": nil,
		"manifest": map[string]any{"autoDataSyncVersion": "1.3", "mirror": false, "deviceNamesToIgnore": []string{},
			"ignoreDeviceOrderAndDelay": false},
		"links": map[string]any{"self": "/api/xm/1/imports/" + j.ID},
	}
	if !j.Finished.IsZero() {
		v["finishedAt"] = j.Finished.Format(time.RFC3339)
	}
	if j.Findings != nil {
		v["findings"] = j.Findings
	}
	if j.Status != "QUEUED" && j.Status != "PROCESSING" && j.Status != "FAILED" {
		var names []string
		for n := range j.Files {
			names = append(names, n)
		}
		sort.Strings(names)
		summary := []map[string]any{}
		for _, n := range names {
			read := j.Files[n]
			failed := 0
			if j.Status == "COMPLETED_WITH_ERRORS" && read > 0 && n == "DS_USERS" {
				failed = 1
			}
			summary = append(summary, map[string]any{"synchronizer": n, "read": read, "inserted": read - failed, "updated": 0,
				"adopted": 0, "unchanged": 0, "removed": 0, "removedByMirror": 0, "ignored": 0, "failed": failed})
		}
		v["summary"] = summary
	}
	return v
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	items := make([]any, 0, len(s.jobs))
	for i := len(s.jobs) - 1; i >= 0; i-- {
		items = append(items, s.jobs[i].view())
	}
	s.mu.Unlock()
	s.writePage(w, r, items)
}

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, items []any) {
	q := r.URL.Query()
	s.mu.Lock()
	pageSize := s.PageSize
	s.mu.Unlock()
	limit := pageSize
	offset := 0
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
		limit = min(limit, 1000, pageSize)
	}
	if offset < 0 || limit < 1 {
		writeError(w, http.StatusBadRequest, "offset must be 0 or more and limit 1 to 1000")
		return
	}
	end := min(offset+limit, len(items))
	data := []any{}
	if offset < len(items) {
		data = items[offset:end]
	}
	links := map[string]string{"self": fmt.Sprintf("%s?offset=%d&limit=%d", r.URL.Path, offset, limit)}
	if end < len(items) {
		links["next"] = fmt.Sprintf("%s?offset=%d&limit=%d", r.URL.Path, end, limit)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(data), "total": len(items), "data": data, "links": links})
}

func (s *Server) jobPath(w http.ResponseWriter, r *http.Request, j *job, sub string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case sub == "" && r.Method == http.MethodGet:
		j.advance()
		writeJSON(w, http.StatusOK, j.view())
	case sub == "import-messages" && r.Method == http.MethodGet:
		items := []any{}
		if j.Status == "COMPLETED_WITH_ERRORS" {
			items = append(items, map[string]any{"synchronizer": "DS_USERS", "eventType": "UNKNOWN_ROLE", "status": "FAILURE",
				"level": "ROW", "time": j.Finished.Format(time.RFC3339), "file": "DS_USERS.csv", "line": 2, "rowKey": "E1",
				"field": "ROLE_LIST", "value": "Nobody", "message": "no role named Nobody"})
		}
		s.mu.Unlock()
		s.writePage(w, r, items)
		s.mu.Lock()
	case sub == "rows" && r.Method == http.MethodGet:
		items := []any{}
		var names []string
		for n := range j.Files {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for i := range j.Files[n] {
				items = append(items, map[string]any{"file": n + ".csv", "line": i + 2, "rowKey": fmt.Sprintf("K%d", i+1), "outcome": "INSERTED"})
			}
		}
		s.mu.Unlock()
		s.writePage(w, r, items)
		s.mu.Lock()
	case sub == "report.csv" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		fmt.Fprintf(w, "SYNCHRONIZER,READ,INSERTED,FAILED\n")
		for n, c := range j.Files {
			fmt.Fprintf(w, "%s,%d,%d,0\n", n, c, c)
		}
	case (sub == "approve" || sub == "reject") && r.Method == http.MethodPost:
		if j.Status != "HELD" {
			writeError(w, http.StatusConflict, fmt.Sprintf("job %s is %s, not HELD", j.ID, j.Status))
			return
		}
		if sub == "approve" {
			j.Status, j.polls, j.Final = "QUEUED", 0, "COMPLETED"
		} else {
			j.Status = "REJECTED"
		}
		writeJSON(w, http.StatusOK, j.view())
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %s", r.URL.Path))
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"code": code, "reason": http.StatusText(code), "message": msg})
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }
