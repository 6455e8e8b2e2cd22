package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/epicsync/epic/internal/directory"
)

// where is the WHERE clause of q on a table whose name column (folded) is
// nameCol and whose parent column is parentCol ("" when it has none).
func where(company uuid.UUID, q directory.Query, nameCol, parentCol string) (string, []any) {
	args := []any{pgID(company)}
	var b strings.Builder
	b.WriteString("company_id = $1")
	add := func(cond string, v any) {
		args = append(args, v)
		b.WriteString(" AND " + cond + " $" + strconv.Itoa(len(args)))
	}
	if q.ID != uuid.Nil {
		add("id =", pgID(q.ID))
	}
	if q.Name != "" {
		add(nameCol+" =", fold(q.Name))
	}
	if q.Parent != uuid.Nil && parentCol != "" {
		add(parentCol+" =", pgID(q.Parent))
	}
	if q.IDs != nil {
		args = append(args, pgIDs(q.IDs))
		b.WriteString(" AND id = ANY($" + strconv.Itoa(len(args)) + ")")
	}
	return b.String(), args
}

// limit is the LIMIT and OFFSET clause of a page.
func limit(offset, n int) string {
	s := " OFFSET " + strconv.Itoa(max(offset, 0))
	if n > 0 {
		s += " LIMIT " + strconv.Itoa(n)
	}
	return s
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
// total, both in one REPEATABLE READ snapshot, in one round trip: the
// statements go in one pipeline. kind, when not empty, names the
// company's whole table whose total s.totals keeps by generation; the
// count runs only when the generation moved since it was kept. A read of
// every row (no offset or limit) counts what it reads.
func page[T any](s *Store, ctx context.Context, what, table, cols, cond string, args []any, order string,
	company uuid.UUID, kind string, offset, n int, scan func(pgx.CollectableRow) (*T, error)) ([]*T, int, error) {
	all := offset <= 0 && n <= 0
	count := `SELECT count(*) FROM ` + table + ` WHERE ` + cond
	var known int64 = -1 // the generation of the total kept
	if kind != "" {
		known = s.totals.Generation(company, kind)
	}
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	switch {
	case kind != "":
		// The count is an InitPlan: PostgreSQL runs it only when the
		// CASE reaches it.
		b.Queue(`SELECT generation, CASE WHEN generation = $`+strconv.Itoa(len(args)+1)+` THEN NULL ELSE (`+count+`) END
			FROM companies WHERE id = $1`, append(slices.Clip(args), known)...)
	case !all:
		b.Queue(count, args...)
	}
	sel := `SELECT ` + cols + ` FROM ` + table + ` WHERE ` + cond
	if offset > 0 && !strings.ContainsAny(order, ", ") {
		// order is one column, unique in the company: skip to the
		// page's first key through the index alone, so that the
		// columns (and their subqueries) are made for the page's rows
		// only, not for every row skipped.
		sel += ` AND ` + order + ` >= (SELECT ` + order + ` FROM ` + table + ` WHERE ` + cond +
			` ORDER BY ` + order + limit(offset, 1) + `) ORDER BY ` + order + limit(0, n)
	} else {
		sel += ` ORDER BY ` + order + limit(offset, n)
	}
	b.Queue(sel, args...)
	b.Queue(`COMMIT`)

	var (
		out   []*T
		total = -1
	)
	err := func() error {
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		switch {
		case kind != "":
			var (
				gen int64
				n   *int64
			)
			err := br.QueryRow().Scan(&gen, &n)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				total = 0 // no company, no objects
			case err != nil:
				return err
			case n != nil:
				total = int(*n)
				s.totals.Put(company, kind, gen, total)
			default:
				t, ok := s.totals.Get(company, kind, gen)
				if !ok {
					// Kept by another call for another generation
					// meanwhile: count again, rarely.
					return errRecount
				}
				total = t
			}
		case !all:
			if err := br.QueryRow().Scan(&total); err != nil {
				return err
			}
		}
		rows, _ := br.Query()
		var err error
		if out, err = pgx.CollectRows(rows, scan); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		return br.Close()
	}()
	if errors.Is(err, errRecount) {
		return page(s, ctx, what, table, cols, cond, args, order, company, "", offset, n, scan)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", what, err)
	}
	if total < 0 {
		total = len(out)
	}
	if total == 0 || offset >= total {
		out = nil
	}
	return out, total, nil
}

// errRecount makes page count without Store.totals.
var errRecount = errors.New("count again")

// ReadSites implements directory.Reader.
func (s *Store) ReadSites(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Site, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "name_key", "")
	return page(s, ctx, "sites", "sites", `id, external_key, owned, name, status, time_zone, language, country,
		address1, address2, city, state, postal_code, latitude, longitude`, cond, args, "name_key", company, kindOf(q, "sites"), q.Offset, q.Limit,
		func(r pgx.CollectableRow) (*directory.Site, error) {
			var s directory.Site
			err := r.Scan(scanID{&s.ID}, &s.ExternalKey, &s.Owned, &s.Name, &s.Status, &s.TimeZone, &s.Language, &s.Country,
				&s.Address1, &s.Address2, &s.City, &s.State, &s.PostalCode, &s.Latitude, &s.Longitude)
			return &s, err
		})
}

// ReadPeople implements directory.Reader.
func (s *Store) ReadPeople(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Person, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "target_key", "")
	return page(s, ctx, "people", "people p", `id, external_key, owned, target_name, first_name, last_name, status,
		site_id, language, time_zone, web_login, password_set, roles,
		ARRAY(SELECT s.supervisor_id FROM person_supervisors s
			WHERE s.company_id = p.company_id AND s.person_id = p.id ORDER BY s.seq)`,
		cond, args, "target_key", company, kindOf(q, "people"), q.Offset, q.Limit,
		func(r pgx.CollectableRow) (*directory.Person, error) {
			var p directory.Person
			var sups []pgtype.UUID
			err := r.Scan(scanID{&p.ID}, &p.ExternalKey, &p.Owned, &p.TargetName, &p.FirstName, &p.LastName, &p.Status,
				scanID{&p.SiteID}, &p.Language, &p.TimeZone, &p.WebLogin, &p.PasswordSet, &p.Roles, &sups)
			p.Roles, p.Supervisors = nilIfEmpty(p.Roles), fromPg(sups)
			return &p, err
		})
}

// ReadDevices implements directory.Reader.
func (s *Store) ReadDevices(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Device, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "name_key", "owner_id")
	return page(s, ctx, "devices", "devices", `id, external_key, owned, owner_id, type, name, status, is_default,
		sort_order, delay, lock_24x7, address, country, area_code, phone, extension, pin, provider, country_code`,
		cond, args, "owner_id, sort_order, name_key", company, kindOf(q, "devices"), q.Offset, q.Limit,
		func(r pgx.CollectableRow) (*directory.Device, error) {
			var d directory.Device
			var typ string
			err := r.Scan(scanID{&d.ID}, &d.ExternalKey, &d.Owned, scanID{&d.OwnerID}, &typ, &d.Name, &d.Status, &d.Default,
				&d.Order, &d.Delay, &d.Lock24x7, &d.Address, &d.Country, &d.AreaCode, &d.Phone, &d.Extension,
				&d.PIN, &d.Provider, &d.CountryCode)
			d.Type = directory.DeviceType(typ)
			return &d, err
		})
}

// ReadGroups implements directory.Reader.
func (s *Store) ReadGroups(ctx context.Context, company uuid.UUID, q directory.Query) ([]*directory.Group, int, error) {
	if q.IDs != nil && len(q.IDs) == 0 {
		return nil, 0, nil
	}
	cond, args := where(company, q, "target_key", "")
	return page(s, ctx, "groups", "groups g", `id, external_key, owned, target_name, description, status,
		use_default_devices, time_zone, site_id, observed_by_all, allow_duplicates, observers,
		ARRAY(SELECT s.supervisor_id FROM group_supervisors s
			WHERE s.company_id = g.company_id AND s.group_id = g.id ORDER BY s.seq)`,
		cond, args, "target_key", company, kindOf(q, "groups"), q.Offset, q.Limit,
		func(r pgx.CollectableRow) (*directory.Group, error) {
			var g directory.Group
			var sups []pgtype.UUID
			err := r.Scan(scanID{&g.ID}, &g.ExternalKey, &g.Owned, &g.TargetName, &g.Description, &g.Status,
				&g.UseDefaultDevices, &g.TimeZone, scanID{&g.SiteID}, &g.ObservedByAll, &g.AllowDuplicates,
				&g.Observers, &sups)
			g.Observers, g.Supervisors = nilIfEmpty(g.Observers), fromPg(sups)
			return &g, err
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
		func(r pgx.CollectableRow) (*directory.Shift, error) {
			var s directory.Shift
			err := r.Scan(scanID{&s.ID}, &s.ExternalKey, &s.Owned, scanID{&s.GroupID}, &s.Name, &s.Description,
				&s.UseDefaultDevices, &s.Escalation, &s.RoundRobin)
			s.Escalation = nilIfEmpty(s.Escalation)
			return &s, err
		})
}

// ReadCustomValues implements directory.Reader.
func (s *Store) ReadCustomValues(ctx context.Context, company uuid.UUID, people []uuid.UUID) ([]*directory.CustomValue, error) {
	if len(people) == 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, external_key, owned, person_id, field_key, value
		FROM custom_values WHERE company_id = $1 AND person_id = ANY($2) ORDER BY person_id, field_key`,
		pgID(company), pgIDs(people))
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*directory.CustomValue, error) {
		var c directory.CustomValue
		err := r.Scan(scanID{&c.ID}, &c.ExternalKey, &c.Owned, scanID{&c.PersonID}, &c.FieldKey, &c.Value)
		return &c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read custom values: %w", err)
	}
	return out, nil
}

// ReadMembers implements directory.Reader.
func (s *Store) ReadMembers(ctx context.Context, company uuid.UUID, shifts []uuid.UUID) ([]*directory.Member, error) {
	if len(shifts) == 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT shift_id, type, member_id, sequence, owned
		FROM members WHERE company_id = $1 AND shift_id = ANY($2) ORDER BY shift_id, sequence`,
		pgID(company), pgIDs(shifts))
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*directory.Member, error) {
		var m directory.Member
		var typ string
		err := r.Scan(scanID{&m.ShiftID}, &typ, scanID{&m.MemberID}, &m.Sequence, &m.Owned)
		m.Type = directory.MemberType(typ)
		return &m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	return out, nil
}

// ReadJobs implements directory.Reader.
func (s *Store) ReadJobs(ctx context.Context, company uuid.UUID, offset, n int) ([]*directory.Job, int, error) {
	return page(s, ctx, "jobs", "jobs", jobColumns, "company_id = $1", []any{pgID(company)}, "started DESC, id DESC",
		company, "", offset, n, func(r pgx.CollectableRow) (*directory.Job, error) { return scanJob(r, false) })
}

// Generation implements directory.Reader.
func (s *Store) Generation(ctx context.Context, company uuid.UUID) (int64, error) {
	var gen int64
	err := s.pool.QueryRow(ctx, `SELECT generation FROM companies WHERE id = $1`, pgID(company)).Scan(&gen)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("company %s: %w", company, directory.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("company %s generation: %w", company, err)
	}
	return gen, nil
}

// Ping implements directory.Reader.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}
