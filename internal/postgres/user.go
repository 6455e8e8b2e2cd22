package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epicsync/epic/internal/directory"
)

// AddUser implements directory.Users.
func (s *Store) AddUser(ctx context.Context, u *directory.User) error {
	id := u.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	created := time.Now().UTC().Truncate(time.Microsecond)
	_, err := s.pool.Exec(ctx, `INSERT INTO users (id, company_id, login, login_key, password_hash, roles, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, pgID(id), pgID(u.CompanyID), u.Login, fold(u.Login), u.PasswordHash,
		roles, created)
	if err != nil {
		return fmt.Errorf("add user %q: %w", u.Login, mapErr(err, true))
	}
	u.ID, u.Created = id, created
	return nil
}

// UserByLogin implements directory.Users.
func (s *Store) UserByLogin(ctx context.Context, login string) (*directory.User, *directory.Company, error) {
	var (
		u     directory.User
		c     directory.Company
		roles []string
		cfg   []byte
	)
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.company_id, u.login, u.password_hash, u.roles, u.created,
		c.id, c.name, c.epic_enabled, c.config, c.created
		FROM users u JOIN companies c ON c.id = u.company_id WHERE u.login_key = $1`, fold(login)).Scan(
		scanID{&u.ID}, scanID{&u.CompanyID}, &u.Login, &u.PasswordHash, &roles, &u.Created,
		scanID{&c.ID}, &c.Name, &c.EpicEnabled, &cfg, &c.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("user %q: %w", login, directory.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("user %q: %w", login, err)
	}
	for _, r := range roles {
		u.Roles = append(u.Roles, directory.Role(r))
	}
	if err := json.Unmarshal(cfg, &c.Config); err != nil {
		return nil, nil, fmt.Errorf("company %s config: %w", c.ID, err)
	}
	u.Created, c.Created = u.Created.UTC(), c.Created.UTC()
	return &u, &c, nil
}
