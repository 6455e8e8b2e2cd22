package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// where is the WHERE clause of q on a table whose name column (folded) is
// nameCol and whose parent column is parentCol ("" when it has none).
func where(company uuid.UUID, q directory.Query, nameCol, parentCol string) (string, []any) {
	var b strings.Builder
	args := []any{blob(company)}
	if q.ID != uuid.Nil || q.IDs != nil {
		// Unary +: look up by the ID's index, not the company's.
		b.WriteString("+company_id = ?")
	} else {
		b.WriteString("company_id = ?")
	}
	if q.ID != uuid.Nil {
		b.WriteString(" AND id = ?")
		args = append(args, blob(q.ID))
	}
	if q.Name != "" {
		b.WriteString(" AND " + nameCol + " = ?")
		args = append(args, fold(q.Name))
	}
	if q.Parent != uuid.Nil && parentCol != "" {
		b.WriteString(" AND " + parentCol + " = ?")
		args = append(args, blob(q.Parent))
	}
	if q.IDs != nil {
		b.WriteString(" AND id IN (")
		for i, id := range q.IDs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
			args = append(args, blob(id))
		}
		b.WriteString(")")
	}
	return b.String(), args
}

// limit is the LIMIT and OFFSET clause of a page.
func limit(offset, n int) string {
	if n <= 0 {
		n = -1
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", n, max(offset, 0))
}

// whole says whether q reads every object of a kind (no ID, name or
// parent): the pages whose totals Store.totals keeps.
func whole(q directory.Query) bool {
	return q.ID == uuid.Nil && q.IDs == nil && q.Name == "" && q.Parent == uuid.Nil
}

// kindOf is kind when q reads the whole table of that kind, else "".
func kindOf(q directory.Query, kind string) string {
	if whole(q) {
		return kind
	}
	return ""
}

// page reads one page of the rows of table matching cond and their
// total, both in one snapshot, in one query when it can: a read of every
// row (no offset or limit) counts what it reads, and kind, when not
// empty, names the company's whole table whose total s.totals keeps by
// generation.
func page[T any](s *Store, ctx context.Context, what, table, cols, cond string, args []any, order string,
	company uuid.UUID, kind string, offset, n int, scan func(*sql.Rows) (*T, error)) ([]*T, int, error) {
	var (
		out   []*T
		total = -1 // not known yet
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		gen := int64(-1)
		if kind != "" {
			err := tx.QueryRowContext(ctx, `SELECT generation FROM companies WHERE id = ?`, blob(company)).Scan(&gen)
			if errors.Is(err, sql.ErrNoRows) {
				total = 0 // no company, no objects
				return nil
			}
			if err != nil {
				return err
			}
			if t, ok := s.totals.Get(company, kind, gen); ok {
				total = t
			}
		}
		if total < 0 && (offset > 0 || n > 0) {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+cond, args...).Scan(&total); err != nil {
				return err
			}
			if kind != "" {
				s.totals.Put(company, kind, gen, total)
			}
		}
		if total == 0 || (total > 0 && offset >= total) {
			return nil
		}
		sel, selArgs := `SELECT `+cols+` FROM `+table+` WHERE `+cond, args
		if offset > 0 && !strings.ContainsAny(order, ", ") {
			// order is one column, unique in the company: skip to the
			// page's first key through the index alone (no row is
			// read for the rows skipped).
			sel += ` AND ` + order + ` >= (SELECT ` + order + ` FROM ` + table + ` WHERE ` + cond +
				` ORDER BY ` + order + limit(offset, 1) + `) ORDER BY ` + order + limit(0, n)
			selArgs = append(slices.Clip(args), args...)
		} else {
			sel += ` ORDER BY ` + order + limit(offset, n)
		}
		rows, err := tx.QueryContext(ctx, sel, selArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if total < 0 {
			total = len(out)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", what, err)
	}
	return out, total, nil
}

// ReadSites implements directory.Reader.
func (s *Store) ReadSites(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Site, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "name_key", "")
	return page(s, ctx, "sites", "sites", `id, external_key, owned, name, status, time_zone, language, country,
		address1, address2, city, state, postal_code, latitude, longitude`, cond, args, "name_key", company, kindOf(q, "sites"), q.Offset, q.Limit,
		func(rows *sql.Rows) (*directory.Site, error) {
			var o directory.Site
			err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.Name, &o.Status, &o.TimeZone, &o.Language, &o.Country,
				&o.Address1, &o.Address2, &o.City, &o.State, &o.PostalCode, &o.Latitude, &o.Longitude)
			return &o, err
		})
}

// ReadPeople implements directory.Reader.
func (s *Store) ReadPeople(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Person, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "target_key", "")
	return page(s, ctx, "people", "people", `id, external_key, owned, target_name, first_name, last_name, status,
		site_id, language, time_zone, web_login, roles, password_set,
		(SELECT group_concat(hex(supervisor_id), '' ORDER BY position) FROM person_supervisors WHERE person_id = people.id)`,
		cond, args, "target_key", company, kindOf(q, "people"), q.Offset, q.Limit,
		func(rows *sql.Rows) (*directory.Person, error) {
			var (
				o                  directory.Person
				roles, supervisors *string
			)
			if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.TargetName, &o.FirstName, &o.LastName, &o.Status,
				&o.SiteID, &o.Language, &o.TimeZone, &o.WebLogin, &roles, &o.PasswordSet, &supervisors); err != nil {
				return nil, err
			}
			var err error
			if o.Roles, err = fromJSONList[string](roles); err != nil {
				return nil, fmt.Errorf("person %s roles: %w", o.ID, err)
			}
			if o.Supervisors, err = fromHexIDs(supervisors); err != nil {
				return nil, fmt.Errorf("person %s supervisors: %w", o.ID, err)
			}
			return &o, nil
		})
}

// ReadDevices implements directory.Reader.
func (s *Store) ReadDevices(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Device, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "name_key", "owner_id")
	return page(s, ctx, "devices", "devices", `id, external_key, owned, owner_id, type, name, status, is_default,
		device_order, delay, lock_24x7, address, country, area_code, phone, extension, pin, provider, country_code`,
		cond, args, "owner_id, device_order, name_key", company, kindOf(q, "devices"), q.Offset, q.Limit,
		func(rows *sql.Rows) (*directory.Device, error) {
			var o directory.Device
			err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.OwnerID, &o.Type, &o.Name, &o.Status, &o.Default,
				&o.Order, &o.Delay, &o.Lock24x7, &o.Address, &o.Country, &o.AreaCode, &o.Phone, &o.Extension, &o.PIN,
				&o.Provider, &o.CountryCode)
			return &o, err
		})
}

// ReadGroups implements directory.Reader.
func (s *Store) ReadGroups(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Group, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "target_key", "")
	return page(s, ctx, "groups", "oncall_groups", `id, external_key, owned, target_name, description, status,
		use_default_devices, time_zone, site_id, observed_by_all, observers, allow_duplicates,
		(SELECT group_concat(hex(supervisor_id), '' ORDER BY position) FROM group_supervisors WHERE group_id = oncall_groups.id)`,
		cond, args, "target_key", company, kindOf(q, "groups"), q.Offset, q.Limit,
		func(rows *sql.Rows) (*directory.Group, error) {
			var (
				o                      directory.Group
				observers, supervisors *string
			)
			if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.TargetName, &o.Description, &o.Status,
				&o.UseDefaultDevices, &o.TimeZone, &o.SiteID, &o.ObservedByAll, &observers, &o.AllowDuplicates,
				&supervisors); err != nil {
				return nil, err
			}
			var err error
			if o.Observers, err = fromJSONList[string](observers); err != nil {
				return nil, fmt.Errorf("group %s observers: %w", o.ID, err)
			}
			if o.Supervisors, err = fromHexIDs(supervisors); err != nil {
				return nil, fmt.Errorf("group %s supervisors: %w", o.ID, err)
			}
			return &o, nil
		})
}

// ReadShifts implements directory.Reader.
func (s *Store) ReadShifts(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Shift, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "name_key", "group_id")
	return page(s, ctx, "shifts", "shifts", `id, external_key, owned, group_id, name, description,
		use_default_devices, escalation, round_robin`, cond, args, "group_id, name_key", company, kindOf(q, "shifts"), q.Offset, q.Limit,
		func(rows *sql.Rows) (*directory.Shift, error) {
			var (
				o          directory.Shift
				escalation *string
			)
			if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.GroupID, &o.Name, &o.Description,
				&o.UseDefaultDevices, &escalation, &o.RoundRobin); err != nil {
				return nil, err
			}
			var err error
			if o.Escalation, err = fromJSONList[int](escalation); err != nil {
				return nil, fmt.Errorf("shift %s escalation: %w", o.ID, err)
			}
			return &o, nil
		})
}

// in is "(?, ?, ...)" for n values, and the IDs as arguments after first.
func in(first any, ids []uuid.UUID) (string, []any) {
	args := append(make([]any, 0, len(ids)+1), first)
	var b strings.Builder
	b.WriteString("(")
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?")
		args = append(args, blob(id))
	}
	b.WriteString(")")
	return b.String(), args
}

// ReadCustomValues implements directory.Reader.
func (s *Store) ReadCustomValues(ctx context.Context, company uuid.UUID, people []uuid.UUID) ([]*directory.CustomValue, error) {
	if len(people) == 0 {
		return nil, nil
	}
	list, args := in(blob(company), people)
	rows, err := s.db.QueryContext(ctx, `SELECT id, external_key, owned, person_id, field_key, value
		FROM custom_values WHERE +company_id = ? AND person_id IN `+list+` ORDER BY person_id, field_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("read custom values: %w", err)
	}
	defer rows.Close()
	var out []*directory.CustomValue
	for rows.Next() {
		var o directory.CustomValue
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.PersonID, &o.FieldKey, &o.Value); err != nil {
			return nil, fmt.Errorf("read custom values: %w", err)
		}
		out = append(out, &o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read custom values: %w", err)
	}
	return out, nil
}

// ReadMembers implements directory.Reader.
func (s *Store) ReadMembers(ctx context.Context, company uuid.UUID, shifts []uuid.UUID) ([]*directory.Member, error) {
	if len(shifts) == 0 {
		return nil, nil
	}
	list, args := in(blob(company), shifts)
	rows, err := s.db.QueryContext(ctx, `SELECT shift_id, sequence, type, member_id, owned
		FROM members WHERE +company_id = ? AND shift_id IN `+list+` ORDER BY shift_id, sequence`, args...)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	defer rows.Close()
	var out []*directory.Member
	for rows.Next() {
		var o directory.Member
		if err := rows.Scan(&o.ShiftID, &o.Sequence, &o.Type, &o.MemberID, &o.Owned); err != nil {
			return nil, fmt.Errorf("read members: %w", err)
		}
		out = append(out, &o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	return out, nil
}

// ReadJobs implements directory.Reader.
func (s *Store) ReadJobs(ctx context.Context, company uuid.UUID, offset, n int) ([]*directory.Job, int, error) {
	return page(s, ctx, "jobs", "jobs", jobColumns, "company_id = ?", []any{blob(company)}, "started DESC, id DESC",
		company, "", offset, n, func(rows *sql.Rows) (*directory.Job, error) { return scanJob(rows, false) })
}

// Generation implements directory.Reader.
func (s *Store) Generation(ctx context.Context, company uuid.UUID) (int64, error) {
	var gen int64
	err := s.db.QueryRowContext(ctx, `SELECT generation FROM companies WHERE id = ?`, blob(company)).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("company %s: %w", company, directory.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("company %s generation: %w", company, err)
	}
	return gen, nil
}

// Ping implements directory.Reader.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM companies LIMIT 1`).Scan(&one); err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("ping %s: %w", s.path, err)
	}
	return nil
}
