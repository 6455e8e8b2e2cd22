package directory

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Role is what an API user may do (interfaces.md §2).
type Role string

// API user roles.
const (
	// RoleUploader may upload archives and read the company's imports.
	RoleUploader Role = "epic-uploader"
	// RoleAdmin may do everything in its company.
	RoleAdmin Role = "company-admin"
	// RoleReader may read the company's directory and imports.
	RoleReader Role = "reader"
)

// Roles lists every role.
var Roles = []Role{RoleUploader, RoleAdmin, RoleReader}

// User is an API user: it acts in its company.
type User struct {
	ID        uuid.UUID
	CompanyID uuid.UUID
	// Login is unique across the service, case-insensitively.
	Login string
	// PasswordHash is the bcrypt hash of the password.
	PasswordHash []byte
	Roles        []Role
	Created      time.Time
}

// Has reports whether the user has role r.
func (u *User) Has(r Role) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Users keeps the API users.
type Users interface {
	// AddUser stores u, setting its ID (if nil) and Created time. A login
	// that is taken (case-insensitively, in any company) is ErrExists; a
	// company that does not exist is ErrNotFound.
	AddUser(ctx context.Context, u *User) error
	// UserByLogin returns the user of that login (case-insensitively) with
	// its company, or ErrNotFound.
	UserByLogin(ctx context.Context, login string) (*User, *Company, error)
}
