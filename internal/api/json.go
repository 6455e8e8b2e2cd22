package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
)

// Error is an API error: the HTTP status and a message for a person. It
// is answered as {"code","reason","message"} (and "job" when it has one).
type Error struct {
	Code     int
	Message  string
	Job      any // an import job to send with the error, or nil
	Findings any // its findings, or nil
	header   http.Header
}

func (e *Error) Error() string { return strconv.Itoa(e.Code) + " " + e.Message }

// errorf returns an *Error.
func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error { return errorf(http.StatusNotFound, format, args...) }
func badRequest(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, format, args...)
}

type errorBody struct {
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
	Job      any    `json:"job,omitempty"`
	Findings any    `json:"findings,omitempty"`
}

// writeError answers err: an *Error as it says, anything else as a 500
// that is logged and not shown.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errorf(http.StatusInternalServerError, "internal error; the service's log has the details")
	}
	for k, v := range e.header {
		w.Header()[k] = v
	}
	writeJSON(w, e.Code, errorBody{Code: e.Code, Reason: http.StatusText(e.Code), Message: e.Message, Job: e.Job, Findings: e.Findings})
}

// writeJSON answers v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // links carry & unescaped
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		b.Reset()
		enc.Encode(errorBody{Code: code, Reason: http.StatusText(code), Message: "encode the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(code)
	w.Write(b.Bytes())
}
