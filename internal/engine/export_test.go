package engine

import "github.com/google/uuid"

// NewIDForTest exposes newID to the benchmarks.
func NewIDForTest() uuid.UUID { return newID() }
