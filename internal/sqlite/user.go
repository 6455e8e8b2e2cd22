package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// AddUser implements directory.Users.
func (s *Store) AddUser(ctx context.Context, u *directory.User) error {
	id := u.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	roles, err := marshal(u.Roles)
	if err != nil {
		return fmt.Errorf("add user %q: %w", u.Login, err)
	}
	created := time.Now().UTC().Truncate(time.Microsecond)
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := companyExists(ctx, tx, u.CompanyID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, company_id, login, login_key, password_hash, roles, created)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, blob(id), blob(u.CompanyID), u.Login, fold(u.Login), u.PasswordHash, roles,
			created.UnixNano())
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("add user %q: %w", u.Login, err)
	}
	u.ID, u.Created = id, created
	return nil
}

// UserByLogin implements directory.Users.
func (s *Store) UserByLogin(ctx context.Context, login string) (*directory.User, *directory.Company, error) {
	var (
		u       directory.User
		roles   string
		created int64
	)
	row := s.db.QueryRowContext(ctx, `SELECT u.id, u.company_id, u.login, u.password_hash, u.roles, u.created,
		c.id, c.name, c.epic_enabled, c.config, c.created
		FROM users u JOIN companies c ON c.id = u.company_id WHERE u.login_key = ?`, fold(login))
	var (
		c        directory.Company
		cfg      string
		ccreated int64
	)
	err := row.Scan(&u.ID, &u.CompanyID, &u.Login, &u.PasswordHash, &roles, &created,
		&c.ID, &c.Name, &c.EpicEnabled, &cfg, &ccreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("user %q: %w", login, directory.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("user %q: %w", login, err)
	}
	if err := unmarshal(roles, &u.Roles); err != nil {
		return nil, nil, fmt.Errorf("user %q roles: %w", login, err)
	}
	if err := unmarshal(cfg, &c.Config); err != nil {
		return nil, nil, fmt.Errorf("company %q config: %w", c.Name, err)
	}
	u.Created, c.Created = fromNanos(created), fromNanos(ccreated)
	return &u, &c, nil
}
