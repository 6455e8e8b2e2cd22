package directory

import (
	"context"
	"sync"

	"github.com/google/uuid"
)

// Query selects objects of one company for the Reader's methods. Every
// condition that is set must hold.
type Query struct {
	ID uuid.UUID // not Nil: only the object of this ID
	// Name: only the object of this name, case-insensitively: a site's
	// name, a person's or group's target name, a device's name (set
	// Parent to its owner), a shift's name (set Parent to its group).
	Name   string
	Parent uuid.UUID   // devices: only this person's; shifts: only this group's
	IDs    []uuid.UUID // not nil: only these objects (empty: none)
	Offset int
	Limit  int // 0: no limit
}

// Reader reads pages of one company's directory, each call on its own
// snapshot, through indexes: a page costs the same in a company of a
// hundred people as in one of a million. Each method returns the objects
// of the page and the exact number of objects the query matches without
// Offset and Limit. Orders are stable:
//
//   - sites by name, people and groups by target name (case-insensitively);
//   - devices by owner ID, then sequence (Order), then name;
//   - shifts by group ID, then name;
//   - jobs newest first (Started, then ID), without Details and Rows.
//
// A company that does not exist has no objects.
type Reader interface {
	ReadSites(ctx context.Context, company uuid.UUID, q Query) ([]*Site, int, error)
	ReadPeople(ctx context.Context, company uuid.UUID, q Query) ([]*Person, int, error)
	ReadDevices(ctx context.Context, company uuid.UUID, q Query) ([]*Device, int, error)
	ReadGroups(ctx context.Context, company uuid.UUID, q Query) ([]*Group, int, error)
	ReadShifts(ctx context.Context, company uuid.UUID, q Query) ([]*Shift, int, error)
	// ReadCustomValues returns the custom values of these people.
	ReadCustomValues(ctx context.Context, company uuid.UUID, people []uuid.UUID) ([]*CustomValue, error)
	// ReadMembers returns the members of these shifts, by shift and
	// sequence.
	ReadMembers(ctx context.Context, company uuid.UUID, shifts []uuid.UUID) ([]*Member, error)
	ReadJobs(ctx context.Context, company uuid.UUID, offset, limit int) ([]*Job, int, error)
	// Generation returns the company's generation: a number raised in
	// the transaction of every Update, so that a directory read between
	// two calls that return the same generation read that generation's
	// directory (callers cache by it). ErrNotFound when there is no such
	// company. Whatever else changes what the API shows of a company
	// (its configuration) must raise it too.
	Generation(ctx context.Context, company uuid.UUID) (int64, error)
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}

// Totals remembers the exact number of objects of each kind in a company
// together with the company's generation: a number every store raises in
// the transaction of each Update, so that two snapshots of the same
// generation hold the same directory. A store reads the generation in the
// snapshot of a page and counts only when Get misses; because the
// generation lives in the database, a count is never stale, whichever
// process wrote. The zero value is ready; it is safe for concurrent use.
type Totals struct {
	mu sync.Mutex
	m  map[totalKey]totalEntry
}

type totalKey struct {
	company uuid.UUID
	kind    string
}

type totalEntry struct {
	generation int64
	n          int
}

// totalsSize bounds the entries kept; when full, Totals starts again empty.
const totalsSize = 4096

// Get returns the number of objects of kind in the company at generation,
// if it is known.
func (t *Totals) Get(company uuid.UUID, kind string, generation int64) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[totalKey{company, kind}]
	if !ok || e.generation != generation {
		return 0, false
	}
	return e.n, true
}

// Put records n objects of kind in the company at generation. A count of
// an older generation than the one kept is dropped.
func (t *Totals) Put(company uuid.UUID, kind string, generation int64, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := totalKey{company, kind}
	if e, ok := t.m[k]; ok && e.generation > generation {
		return
	}
	if t.m == nil {
		t.m = map[totalKey]totalEntry{}
	}
	if len(t.m) >= totalsSize {
		clear(t.m)
	}
	t.m[k] = totalEntry{generation, n}
}

// Generation returns the generation of the total of kind kept for the
// company, or -1.
func (t *Totals) Generation(company uuid.UUID, kind string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[totalKey{company, kind}]; ok {
		return e.generation
	}
	return -1
}
