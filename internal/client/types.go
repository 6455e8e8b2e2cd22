package client

import (
	"bytes"
	"encoding/json"
	"time"
)

// Job statuses (processing.md §1).
const (
	StatusQueued              = "QUEUED"
	StatusProcessing          = "PROCESSING"
	StatusCompleted           = "COMPLETED"
	StatusCompletedWithErrors = "COMPLETED_WITH_ERRORS"
	StatusFailed              = "FAILED"
	StatusSuperseded          = "SUPERSEDED"
	StatusHeld                = "HELD"
	StatusRejected            = "REJECTED"
)

// Ended tells whether a job in this status will change no more without a
// person: every status but QUEUED and PROCESSING. A HELD job waits for an
// administrator's approve or reject.
func Ended(status string) bool { return status != StatusQueued && status != StatusProcessing }

// Job is an import job as the API returns it (interfaces.md §3).
type Job struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Transform      string        `json:"transform,omitempty"`
	Status         string        `json:"status"`
	Started        Time          `json:"started"`
	LastUpdatedAt  Time          `json:"lastUpdatedAt"`
	FinishedAt     Time          `json:"finishedAt"`
	By             *Ref          `json:"by,omitempty"`
	ClientVersion  string        `json:"clientVersion,omitempty"`
	TotalCount     int           `json:"totalCount"`
	ProcessedCount int           `json:"processedCount"`
	SupersededBy   *string       `json:"supersededBy"`
	Manifest       *JobManifest  `json:"manifest,omitempty"`
	Summary        []SummaryLine `json:"summary,omitempty"`
	// Findings are the archive-level problems of an upload the service
	// answered with 400 (processing.md §1). The spec does not name this
	// key; "findings" with the columns of the findings CSV is assumed.
	Findings []Finding `json:"findings,omitempty"`
	Links    Links     `json:"links"`

	// Raw is the JSON as the service sent it, for --json output.
	Raw json.RawMessage `json:"-"`
}

// Ref names another object: {"id": ..., "targetName": ...}.
type Ref struct {
	ID         string `json:"id"`
	TargetName string `json:"targetName"`
}

// JobManifest is the manifest's options as the job applies them.
type JobManifest struct {
	Version                   string   `json:"autoDataSyncVersion"`
	Mirror                    bool     `json:"mirror"`
	DeviceNamesToIgnore       []string `json:"deviceNamesToIgnore"`
	IgnoreDeviceOrderAndDelay bool     `json:"ignoreDeviceOrderAndDelay"`
}

// SummaryLine counts the outcomes of one synchronizer (file).
type SummaryLine struct {
	Synchronizer    string `json:"synchronizer"`
	Read            int    `json:"read"`
	Inserted        int    `json:"inserted"`
	Updated         int    `json:"updated"`
	Adopted         int    `json:"adopted"`
	Unchanged       int    `json:"unchanged"`
	Removed         int    `json:"removed"`
	RemovedByMirror int    `json:"removedByMirror"`
	Ignored         int    `json:"ignored"`
	Failed          int    `json:"failed"`
}

// Finding is one problem the service found in an uploaded archive.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   string `json:"column,omitempty"`
	Value    string `json:"value,omitempty"`
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// Message is one entry of a job's report details (import messages).
type Message struct {
	Synchronizer string `json:"synchronizer"`
	EventType    string `json:"eventType"`
	Status       string `json:"status"` // FAILURE or WARNING
	Level        string `json:"level"`  // FIELD or ROW
	Time         Time   `json:"time"`
	File         string `json:"file"`
	Line         int    `json:"line"`
	RowKey       string `json:"rowKey"`
	Field        string `json:"field,omitempty"`
	Value        string `json:"value,omitempty"`
	Message      string `json:"message"`
}

// RowResult is the outcome of one input row. The spec names the fields
// (file, line, row key, outcome) but not the keys; these are assumed.
type RowResult struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	RowKey  string `json:"rowKey"`
	Outcome string `json:"outcome"`
}

// Links of an object or a page.
type Links struct {
	Self string `json:"self,omitempty"`
	Next string `json:"next,omitempty"`
}

// ServerVersion is the answer of GET /api/epic/1/version.
type ServerVersion struct {
	Version          string   `json:"version"`
	ArchiveVersions  []string `json:"archiveVersions"`
	MinClientVersion string   `json:"minClientVersion"`
}

// page is one page of a list.
type page struct {
	Count int               `json:"count"`
	Total int               `json:"total"`
	Data  []json.RawMessage `json:"data"`
	Links Links             `json:"links"`
}

// Time is a time in the API's JSON (RFC 3339). A missing, null or empty
// value is the zero time.
type Time struct{ time.Time }

// UnmarshalJSON accepts RFC 3339, null and "".
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		t.Time = time.Time{}
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}

// MarshalJSON writes the zero time as null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return t.Time.MarshalJSON()
}
