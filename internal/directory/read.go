package directory

import (
	"context"

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
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}
