package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/epicsync/epic/internal/api"
)

// FuzzRequest sends any path, query and multipart body: the API never
// panics, and every failure is a JSON error whose code is the status.
func FuzzRequest(f *testing.F) {
	st := openSQLite(f)
	seed(f, st)
	h := api.New(api.Config{Store: st, Intake: &fakeIntake{}, MaxUpload: 1 << 12})
	f.Add("GET", "/api/xm/1/people/user01/devices", "offset=1&limit=2", "", []byte(nil))
	f.Add("GET", "/api/xm/1/devices/user01%7CWork%20Email", "embed=roles", "", []byte(nil))
	f.Add("GET", "/api/xm/1/people/%2e%2e/", "limit=1001", "", []byte(nil))
	f.Add("POST", "/api/xm/1/uploads/epic-v1", "", "multipart/form-data; boundary=b",
		[]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n\r\nPK\x03\x04\r\n--b--\r\n"))
	f.Add("POST", "/api/xm/1/uploads/epic-v1", "", "multipart/form-data; boundary=b", []byte("--b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, method, path, query, ct string, body []byte) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path+query, " \r\n#?") || method == "" ||
			strings.ContainsAny(method, " \r\n/") {
			return
		}
		req, err := http.NewRequest(method, "http://x"+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ct)
		req.SetBasicAuth("admin", password)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 400 || path == "/metrics" {
			return
		}
		var e struct {
			Code    int    `json:"code"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code != rec.Code || e.Message == "" {
			t.Fatalf("%s %s?%s: %d %q", method, path, query, rec.Code, rec.Body.String())
		}
	})
}
