package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/epicsync/epic/internal/directory"
)

// Intaker takes an uploaded archive into the queue: it stores it durably
// and returns the new QUEUED job. Its errors wrap ErrTooLarge (413),
// ErrInvalidArchive (400, with the FAILED job it returns) or ErrNotEnabled
// (403), or the values Config names for them. The real one is the queue's
// Service.
type Intaker interface {
	Intake(ctx context.Context, company *directory.Company, name, by, clientVersion string, r io.Reader) (*directory.Job, error)
}

// Errors an Intaker's error may wrap, when Config does not name others.
var (
	ErrTooLarge       = errors.New("archive too large")
	ErrInvalidArchive = errors.New("invalid archive")
	ErrNotEnabled     = errors.New("company not enabled for EPIC")
)

// MinClientVersion is the oldest epic client this service works with.
const MinClientVersion = "0.1.0-0" // every 0.1.0 build, pre-releases (0.1.0-dev) included

// Config is what New needs. Store is required; the rest have defaults.
type Config struct {
	Store directory.Store
	// Intake takes uploads; nil: uploads answer 503.
	Intake Intaker
	// Trigger starts a batch run now (POST /api/epic/1/batch-runs); nil:
	// that endpoint answers 503.
	Trigger func()
	Log     *slog.Logger // nil: discard
	Version string       // the service's version
	// MaxUpload is the largest archive accepted, in bytes (default 1 GiB).
	MaxUpload int64
	// UploadIdleTimeout ends an upload whose client sends nothing for
	// this long (default 1 minute).
	UploadIdleTimeout time.Duration
	// AuthCacheTTL is how long a verified login and password are trusted
	// without bcrypt (default 10 s).
	AuthCacheTTL time.Duration
	Metrics      *Metrics // nil: a new one of its own
	// The errors of Intake that mean 413, 400 and 403 (the queue's own
	// sentinels); nil: ErrTooLarge, ErrInvalidArchive, ErrNotEnabled.
	ErrTooLarge, ErrInvalidArchive, ErrNotEnabled error
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// PageCacheBytes bounds the answers of directory reads kept while
	// the company's directory does not change (cache.go); 0:
	// DefaultPageCacheBytes, negative: none kept.
	PageCacheBytes int
}

// Server timeouts: see NewServer.
const (
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 2 * time.Minute
)

// NewServer returns an http.Server for h with the timeouts a server on
// the internet needs: headers must arrive within ReadHeaderTimeout and an
// idle connection is closed after IdleTimeout. There is no server-wide
// read timeout (it would cut off slow, large uploads): uploads have an
// idle deadline of their own.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// access says who may call a route.
type access int

const (
	public     access = iota // no authentication
	readImport               // uploader, reader, admin
	readDir                  // reader, admin
	upload                   // uploader, admin
	admin                    // admin
)

// call is one authenticated request.
type call struct {
	user    *directory.User
	company *directory.Company
	params  []string // the path's {id}s, percent-decoded
}

type handler func(w http.ResponseWriter, r *http.Request, c *call) error

type route struct {
	method string
	name   string // the pattern, for metrics
	segs   []string
	access access
	h      handler
}

type server struct {
	Config
	log    *slog.Logger
	routes []route
	auth   *authCache
	pages  *pageCache // nil: none
}

// New returns the API's handler.
func New(cfg Config) http.Handler {
	s := &server{Config: cfg, log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.MaxUpload <= 0 {
		s.MaxUpload = 1 << 30
	}
	if s.UploadIdleTimeout <= 0 {
		s.UploadIdleTimeout = time.Minute
	}
	if s.AuthCacheTTL <= 0 {
		s.AuthCacheTTL = 10 * time.Second
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
	if s.ErrTooLarge == nil {
		s.ErrTooLarge = ErrTooLarge
	}
	if s.ErrInvalidArchive == nil {
		s.ErrInvalidArchive = ErrInvalidArchive
	}
	if s.ErrNotEnabled == nil {
		s.ErrNotEnabled = ErrNotEnabled
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.auth = newAuthCache(s.Store, s.AuthCacheTTL, s.Now)
	if s.PageCacheBytes == 0 {
		s.PageCacheBytes = DefaultPageCacheBytes
	}
	s.pages = newPageCache(s.PageCacheBytes)
	s.handle("GET /healthz", public, s.healthz)
	s.handle("GET /readyz", public, s.readyz)
	s.handle("GET /metrics", public, s.metrics)
	s.handle("GET /api/epic/1/version", public, s.version)
	s.handle("POST /api/epic/1/batch-runs", admin, s.batchRun)
	s.handle("POST /api/xm/1/uploads/epic-v1", upload, s.upload)
	s.handle("GET /api/xm/1/imports", readImport, s.imports)
	s.handle("GET /api/xm/1/imports/{id}", readImport, s.importJob)
	s.handle("GET /api/xm/1/imports/{id}/import-messages", readImport, s.importMessages)
	s.handle("GET /api/xm/1/imports/{id}/rows", readImport, s.importRows)
	s.handle("GET /api/xm/1/imports/{id}/report.csv", readImport, s.importReport)
	s.handle("POST /api/xm/1/imports/{id}/approve", admin, s.decide)
	s.handle("POST /api/xm/1/imports/{id}/reject", admin, s.decide)
	s.handle("GET /api/xm/1/people", readDir, s.people)
	s.handle("GET /api/xm/1/people/{id}", readDir, s.person)
	s.handle("GET /api/xm/1/people/{id}/devices", readDir, s.personDevices)
	s.handle("GET /api/xm/1/people/{id}/supervisors", readDir, s.personSupervisors)
	s.handle("GET /api/xm/1/devices", readDir, s.devices)
	s.handle("GET /api/xm/1/devices/{id}", readDir, s.device)
	s.handle("GET /api/xm/1/groups", readDir, s.groups)
	s.handle("GET /api/xm/1/groups/{id}", readDir, s.group)
	s.handle("GET /api/xm/1/groups/{id}/members", readDir, s.groupMembers)
	s.handle("GET /api/xm/1/groups/{id}/shifts", readDir, s.groupShifts)
	s.handle("GET /api/xm/1/sites", readDir, s.sites)
	s.handle("GET /api/xm/1/sites/{id}", readDir, s.site)
	s.handle("GET /api/xm/1/roles", readDir, s.roles)
	return s
}

func (s *server) handle(pattern string, a access, h handler) {
	method, path, _ := strings.Cut(pattern, " ")
	if a == readDir && method == http.MethodGet {
		h = s.cached(h) // directory reads
	}
	s.routes = append(s.routes, route{method: method, name: path, segs: strings.Split(path, "/"), access: a, h: h})
}

// match returns the route of the path's segments and method, the
// percent-decoded parameters, and the methods the path allows.
func (s *server) match(method string, segs []string) (*route, []string, []string, error) {
	var allow []string
	for i := range s.routes {
		rt := &s.routes[i]
		if len(rt.segs) != len(segs) {
			continue
		}
		ok := true
		for j, p := range rt.segs {
			if p != "{id}" && p != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if rt.method != method && !(rt.method == http.MethodGet && method == http.MethodHead) {
			allow = append(allow, rt.method)
			continue
		}
		var params []string
		for j, p := range rt.segs {
			if p == "{id}" {
				v, err := url.PathUnescape(segs[j])
				if err != nil {
					return nil, nil, nil, badRequest("path segment %q is not valid percent-encoding: %v", segs[j], err)
				}
				params = append(params, v)
			}
		}
		return rt, params, nil, nil
	}
	return nil, nil, allow, nil
}

// statusWriter records the status code of an answer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := s.Now()
	w := &statusWriter{ResponseWriter: rw}
	name := "unknown"
	defer func() {
		code := w.code
		if code == 0 {
			code = http.StatusOK
		}
		s.Metrics.request(name, r.Method, code, s.Now().Sub(start))
	}()
	path := r.URL.EscapedPath()
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	rt, params, allow, err := s.match(r.Method, strings.Split(path, "/"))
	switch {
	case err != nil:
		writeError(w, r, s.log, err)
		return
	case rt == nil && allow != nil:
		e := errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))
		e.header = http.Header{"Allow": {strings.Join(allow, ", ")}}
		writeError(w, r, s.log, e)
		return
	case rt == nil:
		writeError(w, r, s.log, notFound("no such path: %s", r.URL.Path))
		return
	}
	name = rt.name
	c := &call{params: params}
	if rt.access != public {
		c.user, c.company, err = s.authenticate(r, rt.access)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	if err := rt.h(w, r, c); err != nil {
		writeError(w, r, s.log, err)
	}
}
