package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// View runs fn on a snapshot of the company's directory.
func (s *Store) View(ctx context.Context, company uuid.UUID, fn func(directory.View) error) error {
	return s.read(ctx, func(tx *sql.Tx) error {
		// The first read fixes the snapshot.
		if err := companyExists(ctx, tx, company); err != nil {
			return err
		}
		return fn(&view{ctx: ctx, tx: tx, company: blob(company)})
	})
}

// view reads one company's directory in a transaction.
type view struct {
	ctx     context.Context
	tx      *sql.Tx
	company []byte
}

// each runs query (with the company as its one argument) and calls row for
// every row; an error of row ends the loop and is returned as it is.
func (v *view) each(what, query string, row func(*sql.Rows) error) error {
	rows, err := v.tx.QueryContext(v.ctx, query, v.company)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

func (v *view) Sites(fn func(*directory.Site) error) error {
	return v.each("sites", `SELECT id, external_key, owned, name, status, time_zone, language, country,
		address1, address2, city, state, postal_code, latitude, longitude
		FROM sites WHERE company_id = ?`, func(rows *sql.Rows) error {
		var o directory.Site
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.Name, &o.Status, &o.TimeZone, &o.Language, &o.Country,
			&o.Address1, &o.Address2, &o.City, &o.State, &o.PostalCode, &o.Latitude, &o.Longitude); err != nil {
			return fmt.Errorf("read sites: %w", err)
		}
		return fn(&o)
	})
}

func (v *view) People(fn func(*directory.Person) error) error {
	return v.each("people", `SELECT id, external_key, owned, target_name, first_name, last_name, status,
		site_id, language, time_zone, web_login, roles, password_set,
		(SELECT group_concat(hex(supervisor_id), '' ORDER BY position) FROM person_supervisors WHERE person_id = people.id)
		FROM people WHERE company_id = ?`, func(rows *sql.Rows) error {
		var (
			o                  directory.Person
			roles, supervisors *string
		)
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.TargetName, &o.FirstName, &o.LastName, &o.Status,
			&o.SiteID, &o.Language, &o.TimeZone, &o.WebLogin, &roles, &o.PasswordSet, &supervisors); err != nil {
			return fmt.Errorf("read people: %w", err)
		}
		var err error
		if o.Roles, err = fromJSONList[string](roles); err != nil {
			return fmt.Errorf("read person %s roles: %w", o.ID, err)
		}
		if o.Supervisors, err = fromHexIDs(supervisors); err != nil {
			return fmt.Errorf("read person %s supervisors: %w", o.ID, err)
		}
		return fn(&o)
	})
}

func (v *view) Devices(fn func(*directory.Device) error) error {
	return v.each("devices", `SELECT id, external_key, owned, owner_id, type, name, status, is_default,
		device_order, delay, lock_24x7, address, country, area_code, phone, extension, pin, provider, country_code
		FROM devices WHERE company_id = ?`, func(rows *sql.Rows) error {
		var o directory.Device
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.OwnerID, &o.Type, &o.Name, &o.Status, &o.Default,
			&o.Order, &o.Delay, &o.Lock24x7, &o.Address, &o.Country, &o.AreaCode, &o.Phone, &o.Extension, &o.PIN,
			&o.Provider, &o.CountryCode); err != nil {
			return fmt.Errorf("read devices: %w", err)
		}
		return fn(&o)
	})
}

func (v *view) CustomValues(fn func(*directory.CustomValue) error) error {
	return v.each("custom values", `SELECT id, external_key, owned, person_id, field_key, value
		FROM custom_values WHERE company_id = ?`, func(rows *sql.Rows) error {
		var o directory.CustomValue
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.PersonID, &o.FieldKey, &o.Value); err != nil {
			return fmt.Errorf("read custom values: %w", err)
		}
		return fn(&o)
	})
}

func (v *view) Groups(fn func(*directory.Group) error) error {
	return v.each("groups", `SELECT id, external_key, owned, target_name, description, status,
		use_default_devices, time_zone, site_id, observed_by_all, observers, allow_duplicates,
		(SELECT group_concat(hex(supervisor_id), '' ORDER BY position) FROM group_supervisors WHERE group_id = oncall_groups.id)
		FROM oncall_groups WHERE company_id = ?`, func(rows *sql.Rows) error {
		var (
			o                      directory.Group
			observers, supervisors *string
		)
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.TargetName, &o.Description, &o.Status,
			&o.UseDefaultDevices, &o.TimeZone, &o.SiteID, &o.ObservedByAll, &observers, &o.AllowDuplicates,
			&supervisors); err != nil {
			return fmt.Errorf("read groups: %w", err)
		}
		var err error
		if o.Observers, err = fromJSONList[string](observers); err != nil {
			return fmt.Errorf("read group %s observers: %w", o.ID, err)
		}
		if o.Supervisors, err = fromHexIDs(supervisors); err != nil {
			return fmt.Errorf("read group %s supervisors: %w", o.ID, err)
		}
		return fn(&o)
	})
}

func (v *view) Shifts(fn func(*directory.Shift) error) error {
	return v.each("shifts", `SELECT id, external_key, owned, group_id, name, description,
		use_default_devices, escalation, round_robin
		FROM shifts WHERE company_id = ?`, func(rows *sql.Rows) error {
		var (
			o          directory.Shift
			escalation *string
		)
		if err := rows.Scan(&o.ID, &o.ExternalKey, &o.Owned, &o.GroupID, &o.Name, &o.Description,
			&o.UseDefaultDevices, &escalation, &o.RoundRobin); err != nil {
			return fmt.Errorf("read shifts: %w", err)
		}
		var err error
		if o.Escalation, err = fromJSONList[int](escalation); err != nil {
			return fmt.Errorf("read shift %s escalation: %w", o.ID, err)
		}
		return fn(&o)
	})
}

func (v *view) Members(fn func(*directory.Member) error) error {
	return v.each("members", `SELECT shift_id, sequence, type, member_id, owned
		FROM members WHERE company_id = ?`, func(rows *sql.Rows) error {
		var o directory.Member
		if err := rows.Scan(&o.ShiftID, &o.Sequence, &o.Type, &o.MemberID, &o.Owned); err != nil {
			return fmt.Errorf("read members: %w", err)
		}
		return fn(&o)
	})
}
