package engine

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/epicsync/epic/internal/directory"
)

// RowResult is the outcome of one input row.
type RowResult struct {
	File    string
	Line    string
	Key     string
	Outcome string
}

// RowResults decodes a job's row results.
func RowResults(j *directory.Job) ([]RowResult, error) {
	var out []RowResult
	err := EachRowResult(j, func(r RowResult) error { out = append(out, r); return nil })
	return out, err
}

// EachRowResult calls fn with every row result of the job, in order,
// without holding them all.
func EachRowResult(j *directory.Job, fn func(RowResult) error) error {
	if len(j.Rows) == 0 {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(j.Rows))
	if err != nil {
		return fmt.Errorf("row results of job %s: %w", j.ID, err)
	}
	cr := csv.NewReader(zr)
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil { // header
		return fmt.Errorf("row results of job %s: %w", j.ID, err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("row results of job %s: %w", j.ID, err)
		}
		if err := fn(RowResult{File: rec[0], Line: rec[1], Key: rec[2], Outcome: rec[3]}); err != nil {
			return err
		}
	}
}
