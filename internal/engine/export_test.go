package engine

import "github.com/google/uuid"

// NewIDForTest exposes newID to the benchmarks.
func NewIDForTest() uuid.UUID { return newID() }

// SetFlushEvery makes chunked writes happen at n objects, so small tests
// take the chunked path; it returns a function that restores the default.
func SetFlushEvery(n int) func() {
	old := flushEvery
	flushEvery = n
	return func() { flushEvery = old }
}
