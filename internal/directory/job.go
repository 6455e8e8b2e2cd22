package directory

import (
	"time"

	"github.com/google/uuid"
)

// JobStatus is where an import job stands (processing.md §1).
type JobStatus string

// Job statuses.
const (
	JobQueued              JobStatus = "QUEUED"
	JobProcessing          JobStatus = "PROCESSING"
	JobCompleted           JobStatus = "COMPLETED"
	JobCompletedWithErrors JobStatus = "COMPLETED_WITH_ERRORS"
	JobFailed              JobStatus = "FAILED"
	JobSuperseded          JobStatus = "SUPERSEDED"
	JobHeld                JobStatus = "HELD"
	JobRejected            JobStatus = "REJECTED"
)

// Job is one uploaded archive and its processing, with its report.
type Job struct {
	ID            uuid.UUID
	CompanyID     uuid.UUID
	Name          string // the archive's file name
	Status        JobStatus
	By            string // who uploaded it
	ClientVersion string
	Started       time.Time
	Updated       time.Time
	Finished      time.Time // zero while not finished
	Manifest      JobManifest
	Total         int // rows in the archive
	Processed     int
	SupersededBy  uuid.UUID // uuid.Nil: not superseded
	Summary       []SummaryLine
	Details       []Detail
	// Rows holds the outcome of every input row, gzip-compressed CSV with
	// the header FILE,LINE,KEY,OUTCOME: one value for a million rows
	// instead of a million database rows.
	Rows []byte
}

// JobManifest is the manifest's options as the job applied them.
type JobManifest struct {
	Version                   string   `json:"autoDataSyncVersion"`
	Mirror                    bool     `json:"mirror"`
	DeviceNamesToIgnore       []string `json:"deviceNamesToIgnore"`
	IgnoreDeviceOrderAndDelay bool     `json:"ignoreDeviceOrderAndDelay"`
	ForceNewPasswordReset     bool     `json:"forceNewPasswordReset"`
}

// SummaryLine counts the outcomes of one synchronizer (file).
type SummaryLine struct {
	Synchronizer    string `json:"synchronizer"` // e.g. DS_USERS
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

// Detail is one warning or failure of a job.
type Detail struct {
	Synchronizer string    `json:"synchronizer"`
	Event        string    `json:"eventType"` // stable code
	Status       string    `json:"status"`    // FAILURE or WARNING
	Level        string    `json:"level"`     // FIELD or ROW
	Time         time.Time `json:"time"`
	File         string    `json:"file"`
	Line         int       `json:"line"`
	RowKey       string    `json:"rowKey"`
	Field        string    `json:"field,omitempty"`
	Value        string    `json:"value,omitempty"`
	Message      string    `json:"message"`
}
