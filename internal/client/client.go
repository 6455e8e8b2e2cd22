package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/epicsync/epic/internal/version"
)

// API paths (interfaces.md §3).
const (
	PathVersion = "/api/epic/1/version"
	PathUpload  = "/api/xm/1/uploads/epic-v1"
	PathImports = "/api/xm/1/imports"
)

// Retry says how often and how long an idempotent request is retried
// after a connection error or a 5xx answer: Attempts tries in all, waiting
// Min, 2*Min, 4*Min ... (at most Max) between them, each wait drawn at
// random between half and all of that ("equal jitter"), or the service's
// Retry-After when it gives one (at most Max).
type Retry struct {
	Attempts int
	Min, Max time.Duration
}

// DefaultRetry is 4 tries over about 3.5 seconds at most.
func DefaultRetry() Retry {
	return Retry{Attempts: 4, Min: 500 * time.Millisecond, Max: 4 * time.Second}
}

// Client talks to one epicd service as one user.
type Client struct {
	base      *url.URL
	hc        *http.Client
	user      string
	password  string
	userAgent string
	retry     Retry
	logf      func(format string, args ...any)
	sleep     func(context.Context, time.Duration) error
}

// Option changes a Client made by New.
type Option func(*Client)

// WithRetry sets the retry policy of idempotent requests.
func WithRetry(r Retry) Option { return func(c *Client) { c.retry = r } }

// WithLogf sets where the client says that it retries (default: nowhere).
func WithLogf(logf func(format string, args ...any)) Option { return func(c *Client) { c.logf = logf } }

// WithTimeout bounds each request that is not an upload or a download
// (default 60 s). Uploads and report downloads are bounded by their
// context only: a large archive on a slow line may take long.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.hc.Timeout = d }
}

// UserAgent is what every request of this build sends.
func UserAgent() string { return "epic/" + version.Version }

// New makes a client of the configured service. It validates cfg, reads
// the password file and the CA file; it does not contact the service.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimSpace(cfg.Server.URL))
	base.Path = strings.TrimSuffix(base.Path, "/")
	pass, err := cfg.password()
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if cfg.Server.CAFile != "" {
		pem, err := os.ReadFile(cfg.Server.CAFile)
		if err != nil {
			return nil, &ConfigError{Field: "server.ca_file", Msg: fmt.Sprintf("cannot read %s: %v", cfg.Server.CAFile, pathErr(err))}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &ConfigError{Field: "server.ca_file", Msg: fmt.Sprintf("%s holds no PEM certificate (want -----BEGIN CERTIFICATE----- blocks)", cfg.Server.CAFile)}
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.ForceAttemptHTTP2 = true
	c := &Client{
		base:      base,
		hc:        &http.Client{Transport: tr, Timeout: 60 * time.Second, CheckRedirect: sameHostRedirect},
		user:      cfg.Auth.Username,
		password:  pass,
		userAgent: UserAgent(),
		retry:     DefaultRetry(),
		logf:      func(string, ...any) {},
		sleep:     sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c, nil
}

// URL is the service's base URL.
func (c *Client) URL() string { return c.base.String() }

// sameHostRedirect never sends the credentials to another host.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		return fmt.Errorf("the service redirected to %s, another host; not following with the credentials", req.URL.Redacted())
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resolve turns an API path, or a link the service returned, into a URL
// on the service. A link to another host is refused: the credentials go
// only to the configured service.
func (c *Client) resolve(ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("bad link %q from the service: %v", ref, err)
	}
	if u.IsAbs() {
		if u.Host != c.base.Host || u.Scheme != c.base.Scheme {
			return nil, fmt.Errorf("the service linked to %s, another host; not following with the credentials", u.Redacted())
		}
		return u, nil
	}
	out := *c.base
	p := u.Path
	if c.base.Path != "" && !strings.HasPrefix(p, c.base.Path+"/") {
		p = c.base.Path + p // a service behind a path prefix that returns links without it
	}
	out.Path, out.RawPath = p, ""
	if u.RawPath != "" {
		out.RawPath = c.base.EscapedPath() + strings.TrimPrefix(u.RawPath, c.base.EscapedPath())
	}
	out.RawQuery = u.RawQuery
	return &out, nil
}

func (c *Client) newRequest(ctx context.Context, method string, u *url.URL, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	return req, nil
}

// transportError turns an error of http.Client.Do into one for a person.
func (c *Client) transportError(ctx context.Context, method string, u *url.URL, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", method, u.Redacted(), context.Cause(ctx))
	}
	shown := u.Redacted()
	if ce := certError(shown, err); ce != nil {
		return ce
	}
	return &ConnError{Method: method, URL: shown, Err: err}
}

// retryable tells whether a failed idempotent request may be tried again.
func retryable(err error, resp *http.Response) bool {
	if err != nil {
		var ce *CertError
		var cn *ConnError
		var rh tls.RecordHeaderError
		return !errors.As(err, &ce) && errors.As(err, &cn) && !errors.As(err, &rh)
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the wait before try number attempt+1 (attempt counts from 0).
func (c *Client) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, c.retry.Max)
		}
	}
	d := c.retry.Min << attempt
	if d > c.retry.Max || d <= 0 {
		d = c.retry.Max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// get sends an idempotent GET, retrying connection errors and 5xx
// answers, and returns a 2xx response; any other answer is an *APIError.
func (c *Client) get(ctx context.Context, ref string, accept string) (*http.Response, error) {
	return c.getWith(ctx, c.hc, ref, accept)
}

func (c *Client) getWith(ctx context.Context, hc *http.Client, ref string, accept string) (*http.Response, error) {
	u, err := c.resolve(ref)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := hc.Do(req)
		if err != nil {
			err = c.transportError(ctx, http.MethodGet, u, err)
		}
		if err == nil && resp.StatusCode < 300 {
			return resp, nil
		}
		if attempt+1 >= c.retry.Attempts || !retryable(err, resp) || ctx.Err() != nil {
			if err != nil {
				return nil, err
			}
			return nil, c.apiError(resp)
		}
		wait := c.backoff(attempt, resp)
		var why string
		var ce *ConnError
		switch {
		case errors.As(err, &ce):
			why = ce.short()
		case err != nil:
			why = err.Error()
		default:
			why = fmt.Sprintf("GET %s: %s", u.Path, resp.Status)
			drain(resp)
		}
		c.logf("%s; trying again in %s (%d of %d)", why, wait.Round(time.Millisecond), attempt+2, c.retry.Attempts)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// apiError reads an error answer; its body should be the JSON error shape,
// but a proxy may answer with anything.
func (c *Client) apiError(resp *http.Response) error {
	defer drain(resp)
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Method: resp.Request.Method, URL: resp.Request.URL.Redacted(), User: c.user}
	if json.Unmarshal(b, e) != nil || e.Message == "" {
		e.Message = strings.TrimSpace(string(b))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
		if e.Message == "" || strings.HasPrefix(e.Message, "<") {
			e.Message = "(no message)"
		}
	}
	e.Code = resp.StatusCode
	if e.Reason == "" {
		e.Reason = http.StatusText(resp.StatusCode)
	}
	return e
}

// getJSON GETs ref and decodes the JSON answer into v; it returns the raw body.
func (c *Client) getJSON(ctx context.Context, ref string, v any) ([]byte, error) {
	resp, err := c.get(ctx, ref, "")
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, c.transportError(ctx, http.MethodGet, resp.Request.URL, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not the JSON expected (%v); is server.url the address of epicd?", resp.Request.URL.Redacted(), err)
	}
	return b, nil
}

// GetJSON GETs any path of the API (e.g. "/api/xm/1/people?limit=3")
// and decodes its JSON answer into v, with the retries of every GET.
func (c *Client) GetJSON(ctx context.Context, path string, v any) error {
	_, err := c.getJSON(ctx, path, v)
	return err
}

// list follows a paginated list from ref, calling fn for each item, until
// the last page, or until fn returns errStop.
func (c *Client) list(ctx context.Context, ref string, fn func(json.RawMessage) error) (total int, err error) {
	seen := map[string]bool{}
	for ref != "" {
		if seen[ref] {
			return total, fmt.Errorf("the service's pages loop: %s was already read", ref)
		}
		seen[ref] = true
		var p page
		if _, err := c.getJSON(ctx, ref, &p); err != nil {
			return total, err
		}
		total = p.Total
		for _, item := range p.Data {
			if err := fn(item); err != nil {
				if errors.Is(err, errStop) {
					return total, nil
				}
				return total, err
			}
		}
		if len(p.Data) == 0 {
			break
		}
		ref = p.Links.Next
	}
	return total, nil
}

var errStop = errors.New("stop")

// Version asks the service for its version and what it accepts. It sends
// the credentials when configured, but the endpoint needs none.
func (c *Client) Version(ctx context.Context) (*ServerVersion, error) {
	var v ServerVersion
	if _, err := c.getJSON(ctx, PathVersion, &v); err != nil {
		return nil, err
	}
	if v.Version == "" && len(v.ArchiveVersions) == 0 {
		return nil, fmt.Errorf("GET %s: the answer has no version; is server.url the address of epicd?", c.base.Redacted()+PathVersion)
	}
	return &v, nil
}

func decodeJob(raw []byte) (*Job, error) {
	var j Job
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("the service's import job is not the JSON expected: %v", err)
	}
	j.Raw = append(json.RawMessage(nil), raw...)
	return &j, nil
}

// Jobs lists the company's import jobs, newest first: at most limit of
// them (0: all), and the total the service has.
func (c *Client) Jobs(ctx context.Context, limit int) ([]*Job, int, error) {
	ref := PathImports
	if limit > 0 {
		ref += "?limit=" + strconv.Itoa(min(limit, 1000))
	}
	var jobs []*Job
	total, err := c.list(ctx, ref, func(raw json.RawMessage) error {
		j, err := decodeJob(raw)
		if err != nil {
			return err
		}
		jobs = append(jobs, j)
		if limit > 0 && len(jobs) >= limit {
			return errStop
		}
		return nil
	})
	return jobs, total, err
}

func jobPath(id string) string { return PathImports + "/" + url.PathEscape(id) }

// Job returns one import job by id.
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	var raw json.RawMessage
	if _, err := c.getJSON(ctx, jobPath(id), &raw); err != nil {
		return nil, err
	}
	return decodeJob(raw)
}

// ImportMessages returns every detail entry of a job's report, following
// the pages.
func (c *Client) ImportMessages(ctx context.Context, id string) ([]Message, error) {
	var out []Message
	_, err := c.list(ctx, jobPath(id)+"/import-messages", func(raw json.RawMessage) error {
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("an import message is not the JSON expected: %v", err)
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// Rows calls fn with the outcome of every input row of a job, page by page
// (a job may have millions).
func (c *Client) Rows(ctx context.Context, id string, fn func(RowResult) error) error {
	_, err := c.list(ctx, jobPath(id)+"/rows?limit=1000", func(raw json.RawMessage) error {
		var r RowResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("a row result is not the JSON expected: %v", err)
		}
		return fn(r)
	})
	return err
}

// ReportCSV copies a job's report as CSV to w. A failure before the first
// byte is retried like any GET; one in the middle is returned (w already
// holds part of the report).
func (c *Client) ReportCSV(ctx context.Context, id string, w io.Writer) (int64, error) {
	resp, err := c.getWith(ctx, c.uploadClient(), jobPath(id)+"/report.csv", "text/csv")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("download the report of job %s: %w", id, err)
	}
	return n, nil
}

// decide POSTs approve or reject of a HELD job. It is not retried.
func (c *Client) decide(ctx context.Context, id, what string) (*Job, error) {
	u, err := c.resolve(jobPath(id) + "/" + what)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, http.MethodPost, u, err)
	}
	if resp.StatusCode >= 300 {
		return nil, c.apiError(resp)
	}
	defer drain(resp)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, c.transportError(ctx, http.MethodPost, u, err)
	}
	return decodeJob(b)
}

// Approve lets a HELD job be applied as it is (company-admin).
func (c *Client) Approve(ctx context.Context, id string) (*Job, error) {
	return c.decide(ctx, id, "approve")
}

// Reject ends a HELD job REJECTED (company-admin).
func (c *Client) Reject(ctx context.Context, id string) (*Job, error) {
	return c.decide(ctx, id, "reject")
}

// WaitOptions say how Wait polls.
type WaitOptions struct {
	// Min is the first wait between two polls; each wait is half again
	// as long as the last, up to Max. Defaults: 500 ms and 1 s: a job ends
	// often within seconds, and a look a second costs the service little.
	Min, Max time.Duration
	// Progress, if set, is called with the job after every poll.
	Progress func(*Job)
}

// Wait polls a job until it has Ended and returns it in its last state.
// A poll that fails after its retries ends the wait with that error.
func (c *Client) Wait(ctx context.Context, id string, o WaitOptions) (*Job, error) {
	if o.Min <= 0 {
		o.Min = 500 * time.Millisecond
	}
	if o.Max < o.Min {
		o.Max = max(time.Second, o.Min)
	}
	wait := o.Min
	for {
		j, err := c.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			o.Progress(j)
		}
		if Ended(j.Status) {
			return j, nil
		}
		if err := c.sleep(ctx, wait); err != nil {
			return j, err
		}
		wait = min(wait*3/2, o.Max)
	}
}
