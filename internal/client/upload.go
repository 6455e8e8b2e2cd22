package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Upload sends an archive to the service as the multipart part "file" and
// returns the import job the service queued (202).
//
// The file is streamed from disk, never read into memory: the request
// body is the multipart header, the file and the closing boundary one
// after the other, with its exact length in Content-Length, so the
// service can refuse a too large archive (413) before reading it.
//
// An upload is retried only when not one byte of it reached the service:
// when no connection could be made (connection refused, a name that does
// not resolve), decided by net/http/httptrace's GotConn never firing. Once
// a connection was had the upload is never tried again by this client,
// whatever happens: the service may have queued it. (net/http itself
// replays a request on a reused keep-alive connection the service had
// closed before any byte was written; GetBody lets it rewind the file for
// that.)
//
// A 400 answer with a FAILED job (archive-level findings) returns that job
// and a *RejectedError; 401, 403, 404, 413 and 5xx answers an *APIError.
func (c *Client) Upload(ctx context.Context, path string) (*Job, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; upload takes an archive .zip", path)
	}
	size := fi.Size()

	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filepath.Base(path)))
	h.Set("Content-Type", "application/zip")
	if _, err := mw.CreatePart(h); err != nil {
		return nil, err
	}
	headLen := head.Len()
	if err := mw.Close(); err != nil { // writes the closing boundary after the head
		return nil, err
	}
	tail := append([]byte(nil), head.Bytes()[headLen:]...)
	headBytes := head.Bytes()[:headLen]
	body := func() (io.ReadCloser, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return io.NopCloser(io.MultiReader(bytes.NewReader(headBytes), io.LimitReader(f, size), bytes.NewReader(tail))), nil
	}

	u, err := c.resolve(PathUpload)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		rc, err := body()
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		var connected atomic.Bool
		trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}
		req, err := c.newRequest(httptrace.WithClientTrace(ctx, trace), http.MethodPost, u, rc)
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(headBytes)) + size + int64(len(tail))
		req.GetBody = body
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.uploadClient().Do(req)
		if err == nil {
			return c.uploadAnswer(resp)
		}
		err = c.transportError(ctx, http.MethodPost, u, err)
		if connected.Load() || attempt+1 >= c.retry.Attempts || !retryable(err, nil) {
			if connected.Load() {
				return nil, fmt.Errorf("%w; the upload was not tried again, since the service may have received it: see epic jobs before uploading again", err)
			}
			return nil, err
		}
		wait := c.backoff(attempt, nil)
		why := err.Error()
		var ce *ConnError
		if errors.As(err, &ce) {
			why = ce.short()
		}
		c.logf("%s; nothing was sent, trying the upload again in %s (%d of %d)", why, wait.Round(time.Millisecond), attempt+2, c.retry.Attempts)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// uploadClient is the client without the per-request timeout: a large
// archive on a slow line may take long; the context bounds it.
func (c *Client) uploadClient() *http.Client {
	hc := *c.hc
	hc.Timeout = 0
	return &hc
}

func (c *Client) uploadAnswer(resp *http.Response) (*Job, error) {
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusCreated, http.StatusOK:
		defer drain(resp)
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return nil, fmt.Errorf("read the upload's answer: %w", err)
		}
		return decodeJob(b)
	case http.StatusBadRequest:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		drain(resp)
		var probe struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if json.Unmarshal(b, &probe) == nil && probe.ID != "" && probe.Status != "" {
			j, err := decodeJob(b)
			if err != nil {
				return nil, err
			}
			return j, &RejectedError{Job: j}
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return nil, c.apiError(resp)
}

// CheckUpload asks the service's version and returns an *IncompatibleError
// if it does not accept an archive of archiveVersion ("" when unknown: not
// checked) or needs a newer client than this one.
func (c *Client) CheckUpload(ctx context.Context, archiveVersion string) (*ServerVersion, error) {
	sv, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	return sv, Compatible(sv, ClientVersion(), archiveVersion, c.base.Redacted())
}

// ClientVersion is this build's version, without the "epic/" of UserAgent.
func ClientVersion() string { return strings.TrimPrefix(UserAgent(), "epic/") }

// Compatible tells whether a client of clientVersion may upload an archive
// of archiveVersion to a service that answered sv; where names the
// service in messages.
func Compatible(sv *ServerVersion, clientVersion, archiveVersion, where string) error {
	if sv.MinClientVersion != "" {
		if cmp, ok := CompareVersions(clientVersion, sv.MinClientVersion); ok && cmp < 0 {
			return &IncompatibleError{Msg: fmt.Sprintf("this epic is version %s, but the service at %s (epicd %s) needs epic %s or newer: install a newer epic",
				clientVersion, where, sv.Version, sv.MinClientVersion)}
		}
	}
	if archiveVersion != "" && !slices.Contains(sv.ArchiveVersions, archiveVersion) {
		return &IncompatibleError{Msg: fmt.Sprintf("the archive is version %s, but the service at %s (epicd %s) accepts archive versions %s: write the archive in one of those (epic template --version) or upgrade the service",
			archiveVersion, where, sv.Version, orNone(sv.ArchiveVersions))}
	}
	return nil
}

func orNone(vs []string) string {
	if len(vs) == 0 {
		return "(none)"
	}
	return strings.Join(vs, ", ")
}

// CompareVersions compares two semantic versions (1.2.3, v1.2.3-rc.1,
// epic/1.2.3) and says -1, 0 or +1; ok is false when either is not a
// version (a "dev" build), and then nothing can be said.
func CompareVersions(a, b string) (cmp int, ok bool) {
	pa, ok1 := parseSemver(a)
	pb, ok2 := parseSemver(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	for i := range 3 {
		if pa.core[i] != pb.core[i] {
			if pa.core[i] < pb.core[i] {
				return -1, true
			}
			return 1, true
		}
	}
	switch {
	case pa.pre == pb.pre:
		return 0, true
	case pa.pre == "": // 1.0.0 > 1.0.0-rc.1
		return 1, true
	case pb.pre == "":
		return -1, true
	}
	return comparePre(pa.pre, pb.pre), true
}

type semver struct {
	core [3]int
	pre  string
}

func parseSemver(s string) (semver, bool) {
	var v semver
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "epic/"), "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		s, v.pre = s[:i], s[i+1:]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v.core[i] = n
	}
	return v, true
}

func comparePre(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		na, ea := strconv.Atoi(as[i])
		nb, eb := strconv.Atoi(bs[i])
		switch {
		case ea == nil && eb == nil:
			if na != nb {
				return cmpInt(na, nb)
			}
		case ea == nil: // numeric identifiers sort before others
			return -1
		case eb == nil:
			return 1
		default:
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(as), len(bs))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
