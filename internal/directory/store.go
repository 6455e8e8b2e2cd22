package directory

import (
	"context"

	"github.com/google/uuid"
)

// Store keeps companies, their directories and their jobs. Every method is
// safe for concurrent use. Implementations: sqlite.Store (embedded
// default), postgres.Store.
type Store interface {
	Users  // API users (user.go)
	Reader // paged reads for the API (read.go)
	// CreateCompany stores c, setting its ID and Created time; a company of
	// the same name (case-insensitively) is ErrExists.
	CreateCompany(ctx context.Context, c *Company) error
	// Company returns the company of that name (case-insensitively), or
	// ErrNotFound.
	Company(ctx context.Context, name string) (*Company, error)
	// Companies returns every company, by name.
	Companies(ctx context.Context) ([]*Company, error)
	// SetConfig replaces the configuration of the company of that ID (and
	// raises its generation), or is ErrNotFound.
	SetConfig(ctx context.Context, company uuid.UUID, cfg Config) error

	// Update runs fn in one transaction on the company's directory: when fn
	// returns nil every write of fn is committed at once, otherwise none is.
	Update(ctx context.Context, company uuid.UUID, fn func(Tx) error) error
	// View runs fn on a consistent snapshot of the company's directory.
	View(ctx context.Context, company uuid.UUID, fn func(View) error) error

	// SaveJob inserts or replaces a job outside any directory change (a job
	// that failed before it changed anything).
	SaveJob(ctx context.Context, j *Job) error
	// Job returns a job of the company, or ErrNotFound.
	Job(ctx context.Context, company, id uuid.UUID) (*Job, error)
	// Jobs returns the company's jobs, newest first, without Details and Rows.
	Jobs(ctx context.Context, company uuid.UUID) ([]*Job, error)

	Queue // the job queue (queue.go)

	Close() error
}

// View reads one company's directory. The iterators call fn once an object,
// in no particular order; the object passed is fn's to keep.
type View interface {
	Sites(fn func(*Site) error) error
	People(fn func(*Person) error) error
	Devices(fn func(*Device) error) error
	CustomValues(fn func(*CustomValue) error) error
	Groups(fn func(*Group) error) error
	Shifts(fn func(*Shift) error) error
	Members(fn func(*Member) error) error
}

// Tx changes one company's directory inside the transaction of Update.
// Writes take batches, so stores can send them in bulk. Objects carry their
// IDs: the caller makes them (uuid.New) for inserts.
type Tx interface {
	View

	PutSites(insert bool, s []*Site) error // insert new ones, or update existing ones by ID
	DeleteSites(ids []uuid.UUID) error     // the caller makes sure no person or group uses them

	PutPeople(insert bool, p []*Person) error
	// DeletePeople removes people with their devices, custom values,
	// supervisor links to them and every shift membership of them or of
	// their devices.
	DeletePeople(ids []uuid.UUID) error

	PutDevices(insert bool, d []*Device) error
	DeleteDevices(ids []uuid.UUID) error // with their shift memberships

	PutCustomValues(insert bool, v []*CustomValue) error
	DeleteCustomValues(ids []uuid.UUID) error

	PutGroups(insert bool, g []*Group) error
	// DeleteGroups removes groups with their shifts, those shifts'
	// memberships and every membership of the groups themselves.
	DeleteGroups(ids []uuid.UUID) error

	PutShifts(insert bool, s []*Shift) error
	DeleteShifts(ids []uuid.UUID) error // with their memberships and memberships of them

	// SetMembers replaces the members of each shift named in members
	// (a shift with an empty list loses all its members).
	SetMembers(members map[uuid.UUID][]*Member) error

	// SaveJob stores the job with the changes, in the same transaction.
	SaveJob(j *Job) error
}
