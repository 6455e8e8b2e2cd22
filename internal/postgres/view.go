package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/epicsync/epic/internal/directory"
)

// view reads one company inside a transaction.
type view struct {
	ctx     context.Context
	tx      pgx.Tx
	company uuid.UUID
	cursors int
}

var _ directory.View = (*view)(nil)

// fetchSize is how many rows a cursor hands over at once.
const fetchSize = 2000

// each runs query (whose $1 is the company) through a cursor and calls fn
// once a row, after each batch is read: fn may use the transaction, even
// start another iteration, and a company of millions of rows is never held
// in memory at once. The cursor sees the transaction as it was when each
// began.
func each[T any](v *view, what, query string, scan func(pgx.Rows) (*T, error), fn func(*T) error) error {
	v.cursors++
	name := "epic_cursor_" + strconv.Itoa(v.cursors)
	// No parameters: the company's ID is written in, so the simple protocol
	// runs DECLARE and no prepared statement outlives the cursor.
	decl := "DECLARE " + name + " NO SCROLL CURSOR FOR " +
		strings.ReplaceAll(query, "$1", "'"+v.company.String()+"'::uuid")
	if _, err := v.tx.Exec(v.ctx, decl); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	fetch := "FETCH " + strconv.Itoa(fetchSize) + " FROM " + name
	batch := make([]*T, 0, fetchSize)
	for {
		batch = batch[:0]
		// DescribeExec: a FETCH's columns are the cursor's, so its
		// description must not be cached under its text.
		rows, err := v.tx.Query(v.ctx, fetch, pgx.QueryExecModeDescribeExec)
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		for rows.Next() {
			x, err := scan(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("read %s: %w", what, err)
			}
			batch = append(batch, x)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		for _, x := range batch {
			if err := fn(x); err != nil {
				return err
			}
		}
		if len(batch) < fetchSize {
			break
		}
	}
	if _, err := v.tx.Exec(v.ctx, "CLOSE "+name); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

func (v *view) Sites(fn func(*directory.Site) error) error {
	return each(v, "sites", `
		SELECT id, external_key, owned, name, status, time_zone, language, country,
			address1, address2, city, state, postal_code, latitude, longitude
		FROM sites WHERE company_id = $1`,
		func(r pgx.Rows) (*directory.Site, error) {
			var s directory.Site
			err := r.Scan(scanID{&s.ID}, &s.ExternalKey, &s.Owned, &s.Name, &s.Status, &s.TimeZone, &s.Language, &s.Country,
				&s.Address1, &s.Address2, &s.City, &s.State, &s.PostalCode, &s.Latitude, &s.Longitude)
			return &s, err
		}, fn)
}

func (v *view) People(fn func(*directory.Person) error) error {
	return each(v, "people", `
		SELECT id, external_key, owned, target_name, first_name, last_name, status,
			site_id, language, time_zone, web_login, password_set, roles,
			ARRAY(SELECT s.supervisor_id FROM person_supervisors s
				WHERE s.company_id = p.company_id AND s.person_id = p.id ORDER BY s.seq)
		FROM people p WHERE company_id = $1`,
		func(r pgx.Rows) (*directory.Person, error) {
			var p directory.Person
			var sups []pgtype.UUID
			err := r.Scan(scanID{&p.ID}, &p.ExternalKey, &p.Owned, &p.TargetName, &p.FirstName, &p.LastName, &p.Status,
				scanID{&p.SiteID}, &p.Language, &p.TimeZone, &p.WebLogin, &p.PasswordSet, &p.Roles, &sups)
			p.Roles, p.Supervisors = nilIfEmpty(p.Roles), fromPg(sups)
			return &p, err
		}, fn)
}

func (v *view) Devices(fn func(*directory.Device) error) error {
	return each(v, "devices", `
		SELECT id, external_key, owned, owner_id, type, name, status, is_default, sort_order, delay, lock_24x7,
			address, country, area_code, phone, extension, pin, provider, country_code
		FROM devices WHERE company_id = $1`,
		func(r pgx.Rows) (*directory.Device, error) {
			var d directory.Device
			var typ string
			err := r.Scan(scanID{&d.ID}, &d.ExternalKey, &d.Owned, scanID{&d.OwnerID}, &typ, &d.Name, &d.Status, &d.Default,
				&d.Order, &d.Delay, &d.Lock24x7, &d.Address, &d.Country, &d.AreaCode, &d.Phone, &d.Extension,
				&d.PIN, &d.Provider, &d.CountryCode)
			d.Type = directory.DeviceType(typ)
			return &d, err
		}, fn)
}

func (v *view) CustomValues(fn func(*directory.CustomValue) error) error {
	return each(v, "custom values", `
		SELECT id, external_key, owned, person_id, field_key, value
		FROM custom_values WHERE company_id = $1`,
		func(r pgx.Rows) (*directory.CustomValue, error) {
			var c directory.CustomValue
			err := r.Scan(scanID{&c.ID}, &c.ExternalKey, &c.Owned, scanID{&c.PersonID}, &c.FieldKey, &c.Value)
			return &c, err
		}, fn)
}

func (v *view) Groups(fn func(*directory.Group) error) error {
	return each(v, "groups", `
		SELECT id, external_key, owned, target_name, description, status, use_default_devices, time_zone,
			site_id, observed_by_all, allow_duplicates, observers,
			ARRAY(SELECT s.supervisor_id FROM group_supervisors s
				WHERE s.company_id = g.company_id AND s.group_id = g.id ORDER BY s.seq)
		FROM groups g WHERE company_id = $1`,
		func(r pgx.Rows) (*directory.Group, error) {
			var g directory.Group
			var sups []pgtype.UUID
			err := r.Scan(scanID{&g.ID}, &g.ExternalKey, &g.Owned, &g.TargetName, &g.Description, &g.Status,
				&g.UseDefaultDevices, &g.TimeZone, scanID{&g.SiteID}, &g.ObservedByAll, &g.AllowDuplicates,
				&g.Observers, &sups)
			g.Observers, g.Supervisors = nilIfEmpty(g.Observers), fromPg(sups)
			return &g, err
		}, fn)
}

func (v *view) Shifts(fn func(*directory.Shift) error) error {
	return each(v, "shifts", `
		SELECT id, external_key, owned, group_id, name, description, use_default_devices, escalation, round_robin
		FROM shifts WHERE company_id = $1`,
		func(r pgx.Rows) (*directory.Shift, error) {
			var s directory.Shift
			err := r.Scan(scanID{&s.ID}, &s.ExternalKey, &s.Owned, scanID{&s.GroupID}, &s.Name, &s.Description,
				&s.UseDefaultDevices, &s.Escalation, &s.RoundRobin)
			s.Escalation = nilIfEmpty(s.Escalation)
			return &s, err
		}, fn)
}

func (v *view) Members(fn func(*directory.Member) error) error {
	return each(v, "members", `
		SELECT shift_id, type, member_id, sequence, owned
		FROM members WHERE company_id = $1 ORDER BY shift_id, sequence`,
		func(r pgx.Rows) (*directory.Member, error) {
			var m directory.Member
			var typ string
			err := r.Scan(scanID{&m.ShiftID}, &typ, scanID{&m.MemberID}, &m.Sequence, &m.Owned)
			m.Type = directory.MemberType(typ)
			return &m, err
		}, fn)
}

// nilIfEmpty reads an empty list as nil, as a Go zero value writes it.
func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
