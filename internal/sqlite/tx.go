package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/epicsync/epic/internal/directory"
)

// Update runs fn in one write transaction on the company's directory.
func (s *Store) Update(ctx context.Context, company uuid.UUID, fn func(directory.Tx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := companyExists(ctx, tx, company); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE companies SET generation = generation + 1 WHERE id = ?`, blob(company)); err != nil {
			return fmt.Errorf("company %s generation: %w", company, err)
		}
		t := &dirTx{view: view{ctx: ctx, tx: tx, company: blob(company)}, companyID: company,
			stmts: map[string]*sql.Stmt{}, exctx: context.WithoutCancel(ctx)}
		return fn(t)
		// The statements are closed with the transaction.
	})
}

// dirTx is a directory.Tx: the company's view plus writes through
// statements prepared once per transaction.
type dirTx struct {
	view
	companyID uuid.UUID
	stmts     map[string]*sql.Stmt
	// exctx is the context of single statements: not cancelable, so that
	// the driver does not watch it statement by statement; each batch
	// checks view.ctx instead.
	exctx context.Context
	args  []any // reused argument list of multi-row statements
}

func (t *dirTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	t.stmts[query] = st
	return st, nil
}

func (t *dirTx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.exctx, args...)
}

// batch runs one Put, Delete or SetMembers call. A call that fails may
// have written part of its batch: fn returns the error and Update rolls
// everything back. (A savepoint around each call would undo the part, but
// SQLite's statement journal then grows with the savepoint and every
// multi-row statement pays for truncating it.)
func (t *dirTx) batch(fn func() error) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	return fn()
}

// chunk is how many rows one INSERT statement writes; the widest table
// (devices, 21 columns) then binds 1,344 values, far below SQLite's limit.
const chunk = 64

// table is the SQL of one kind of rows.
type table struct {
	kind    string   // for messages
	inserts []string // inserts[k] writes k rows
	update  string   // SET columns after id and company_id, then WHERE id, company_id
	delete  string   // id, company_id
}

func insertSQL(name string, cols []string, rows int) string {
	row := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s%s", name, strings.Join(cols, ", "), row,
		strings.Repeat(", "+row, rows-1))
}

func inserts(name string, cols ...string) []string {
	out := make([]string, chunk+1)
	for k := 1; k <= chunk; k++ {
		out[k] = insertSQL(name, cols, k)
	}
	return out
}

// newTable is the SQL of an object kind: its rows start with id and
// company_id, then cols.
func newTable(kind, name string, cols ...string) table {
	return table{
		kind:    kind,
		inserts: inserts(name, append([]string{"id", "company_id"}, cols...)...),
		update: fmt.Sprintf("UPDATE %s SET %s = ? WHERE id = ? AND company_id = ?",
			name, strings.Join(cols, " = ?, ")),
		delete: fmt.Sprintf("DELETE FROM %s WHERE id = ? AND company_id = ?", name),
	}
}

var (
	sitesTable = newTable("site", "sites", "external_key", "owned", "name", "name_key", "status", "time_zone",
		"language", "country", "address1", "address2", "city", "state", "postal_code", "latitude", "longitude")
	peopleTable = newTable("person", "people", "external_key", "owned", "target_name", "target_key",
		"first_name", "last_name", "status", "site_id", "language", "time_zone", "web_login", "roles", "password_set")
	devicesTable = newTable("device", "devices", "external_key", "owned", "owner_id", "type", "name", "name_key",
		"status", "is_default", "device_order", "delay", "lock_24x7", "address", "country", "area_code", "phone",
		"extension", "pin", "provider", "country_code")
	customValuesTable = newTable("custom value", "custom_values", "external_key", "owned", "person_id",
		"field_key", "value")
	groupsTable = newTable("group", "oncall_groups", "external_key", "owned", "target_name", "target_key",
		"description", "status", "use_default_devices", "time_zone", "site_id", "observed_by_all", "observers",
		"allow_duplicates")
	shiftsTable = newTable("shift", "shifts", "external_key", "owned", "group_id", "name", "name_key",
		"description", "use_default_devices", "escalation", "round_robin")

	personSupervisorInserts = inserts("person_supervisors", "person_id", "position", "supervisor_id")
	groupSupervisorInserts  = inserts("group_supervisors", "group_id", "position", "supervisor_id")
	memberInserts           = inserts("members", "company_id", "shift_id", "sequence", "type", "member_id", "owned")
)

// name is how messages name an object: its external key and ID.
func name(c directory.Common) string {
	if c.ExternalKey != "" {
		return fmt.Sprintf("%q (%s)", c.ExternalKey, c.ID)
	}
	return c.ID.String()
}

// insertRows inserts n rows, chunk rows a statement; row appends the
// values of row i to args. When a statement fails, its rows are tried one
// by one so that the error names the row (what names row i).
func (t *dirTx) insertRows(sqls []string, n int, row func(i int, args []any) ([]any, error), what func(i int) string) error {
	for start := 0; start < n; start += chunk {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		end := min(start+chunk, n)
		args := t.args[:0]
		for i := start; i < end; i++ {
			var err error
			if args, err = row(i, args); err != nil {
				return fmt.Errorf("%s: %w", what(i), err)
			}
		}
		t.args = args
		_, err := t.exec(sqls[end-start], args...)
		clear(args) // let the values go
		if err == nil {
			continue
		}
		// The failed statement changed nothing; find the row.
		for i := start; i < end; i++ {
			a, rerr := row(i, t.args[:0])
			if rerr != nil {
				return fmt.Errorf("%s: %w", what(i), rerr)
			}
			if _, rerr := t.exec(sqls[1], a...); rerr != nil {
				return fmt.Errorf("%s: %w", what(i), mapErr(rerr))
			}
		}
		return fmt.Errorf("%s: %w", what(start), mapErr(err))
	}
	return nil
}

// put inserts (in multi-row statements) or updates (one by one) objects
// of one kind; fields appends the values of an object's columns after id
// and company_id.
func put[T any](t *dirTx, tb *table, insert bool, objs []T, common func(T) directory.Common, fields func(T, []any) ([]any, error)) error {
	if insert {
		return t.insertRows(tb.inserts, len(objs), func(i int, args []any) ([]any, error) {
			c := common(objs[i])
			return fields(objs[i], append(args, blob(c.ID), t.company))
		}, func(i int) string { return "insert " + tb.kind + " " + name(common(objs[i])) })
	}
	for i, o := range objs {
		if i%chunk == 0 {
			if err := t.ctx.Err(); err != nil {
				return err
			}
		}
		c := common(o)
		args, err := fields(o, t.args[:0])
		if err != nil {
			return fmt.Errorf("update %s %s: %w", tb.kind, name(c), err)
		}
		args = append(args, blob(c.ID), t.company)
		t.args = args
		res, err := t.exec(tb.update, args...)
		if err != nil {
			return fmt.Errorf("update %s %s: %w", tb.kind, name(c), mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update %s %s: %w", tb.kind, name(c), err)
		} else if n == 0 {
			return fmt.Errorf("update %s %s: %w", tb.kind, name(c), directory.ErrNotFound)
		}
	}
	return nil
}

func (t *dirTx) deleteRows(tb *table, ids []uuid.UUID) error {
	return t.batch(func() error {
		for i, id := range ids {
			if i%chunk == 0 {
				if err := t.ctx.Err(); err != nil {
					return err
				}
			}
			if _, err := t.exec(tb.delete, blob(id), t.company); err != nil {
				return fmt.Errorf("delete %s %s: %w", tb.kind, id, err)
			}
		}
		return nil
	})
}

func siteCommon(o *directory.Site) directory.Common         { return o.Common }
func personCommon(o *directory.Person) directory.Common     { return o.Common }
func deviceCommon(o *directory.Device) directory.Common     { return o.Common }
func valueCommon(o *directory.CustomValue) directory.Common { return o.Common }
func groupCommon(o *directory.Group) directory.Common       { return o.Common }
func shiftCommon(o *directory.Shift) directory.Common       { return o.Common }

func (t *dirTx) PutSites(insert bool, sites []*directory.Site) error {
	return t.batch(func() error {
		return put(t, &sitesTable, insert, sites, siteCommon, func(o *directory.Site, a []any) ([]any, error) {
			return append(a, o.ExternalKey, o.Owned, o.Name, fold(o.Name), o.Status, o.TimeZone, o.Language,
				o.Country, o.Address1, o.Address2, o.City, o.State, o.PostalCode, o.Latitude, o.Longitude), nil
		})
	})
}

func (t *dirTx) DeleteSites(ids []uuid.UUID) error { return t.deleteRows(&sitesTable, ids) }

// link is one supervisor link of a person or group.
type link struct {
	c          directory.Common
	position   int
	supervisor uuid.UUID
}

// setSupervisors writes the supervisor links of people or groups, after
// all of them are written (supervisors may be among them); on update,
// the old links go first.
func setSupervisors[T any](t *dirTx, kind string, insert bool, objs []T, common func(T) directory.Common, supervisors func(T) []uuid.UUID, del string, ins []string) error {
	var links []link
	for _, o := range objs {
		c := common(o)
		if !insert {
			if _, err := t.exec(del, blob(c.ID)); err != nil {
				return fmt.Errorf("update %s %s supervisors: %w", kind, name(c), err)
			}
		}
		for i, s := range supervisors(o) {
			links = append(links, link{c, i, s})
		}
	}
	return t.insertRows(ins, len(links), func(i int, a []any) ([]any, error) {
		l := links[i]
		return append(a, blob(l.c.ID), l.position, blob(l.supervisor)), nil
	}, func(i int) string {
		return fmt.Sprintf("%s %s supervisor %s", kind, name(links[i].c), links[i].supervisor)
	})
}

func (t *dirTx) PutPeople(insert bool, people []*directory.Person) error {
	return t.batch(func() error {
		err := put(t, &peopleTable, insert, people, personCommon, func(o *directory.Person, a []any) ([]any, error) {
			roles, err := jsonList(o.Roles)
			if err != nil {
				return nil, fmt.Errorf("roles: %w", err)
			}
			return append(a, o.ExternalKey, o.Owned, o.TargetName, fold(o.TargetName), o.FirstName, o.LastName,
				o.Status, nullBlob(o.SiteID), o.Language, o.TimeZone, o.WebLogin, roles, o.PasswordSet), nil
		})
		if err != nil {
			return err
		}
		return setSupervisors(t, "person", insert, people, personCommon,
			func(o *directory.Person) []uuid.UUID { return o.Supervisors },
			`DELETE FROM person_supervisors WHERE person_id = ?`, personSupervisorInserts)
	})
}

// DeletePeople removes people; their devices, custom values and
// supervisor links go by foreign key, their and their devices' shift
// memberships by trigger.
func (t *dirTx) DeletePeople(ids []uuid.UUID) error { return t.deleteRows(&peopleTable, ids) }

func (t *dirTx) PutDevices(insert bool, devices []*directory.Device) error {
	return t.batch(func() error {
		return put(t, &devicesTable, insert, devices, deviceCommon, func(o *directory.Device, a []any) ([]any, error) {
			return append(a, o.ExternalKey, o.Owned, blob(o.OwnerID), string(o.Type), o.Name, fold(o.Name),
				o.Status, o.Default, o.Order, o.Delay, o.Lock24x7, o.Address, o.Country, o.AreaCode, o.Phone,
				o.Extension, o.PIN, o.Provider, o.CountryCode), nil
		})
	})
}

func (t *dirTx) DeleteDevices(ids []uuid.UUID) error { return t.deleteRows(&devicesTable, ids) }

func (t *dirTx) PutCustomValues(insert bool, values []*directory.CustomValue) error {
	return t.batch(func() error {
		return put(t, &customValuesTable, insert, values, valueCommon, func(o *directory.CustomValue, a []any) ([]any, error) {
			return append(a, o.ExternalKey, o.Owned, blob(o.PersonID), o.FieldKey, o.Value), nil
		})
	})
}

func (t *dirTx) DeleteCustomValues(ids []uuid.UUID) error {
	return t.deleteRows(&customValuesTable, ids)
}

func (t *dirTx) PutGroups(insert bool, groups []*directory.Group) error {
	return t.batch(func() error {
		err := put(t, &groupsTable, insert, groups, groupCommon, func(o *directory.Group, a []any) ([]any, error) {
			observers, err := jsonList(o.Observers)
			if err != nil {
				return nil, fmt.Errorf("observers: %w", err)
			}
			return append(a, o.ExternalKey, o.Owned, o.TargetName, fold(o.TargetName), o.Description, o.Status,
				o.UseDefaultDevices, o.TimeZone, nullBlob(o.SiteID), o.ObservedByAll, observers,
				o.AllowDuplicates), nil
		})
		if err != nil {
			return err
		}
		return setSupervisors(t, "group", insert, groups, groupCommon,
			func(o *directory.Group) []uuid.UUID { return o.Supervisors },
			`DELETE FROM group_supervisors WHERE group_id = ?`, groupSupervisorInserts)
	})
}

// DeleteGroups removes groups; their shifts and those shifts' members go
// by foreign key, memberships of the groups and of their shifts by
// trigger.
func (t *dirTx) DeleteGroups(ids []uuid.UUID) error { return t.deleteRows(&groupsTable, ids) }

func (t *dirTx) PutShifts(insert bool, shifts []*directory.Shift) error {
	return t.batch(func() error {
		return put(t, &shiftsTable, insert, shifts, shiftCommon, func(o *directory.Shift, a []any) ([]any, error) {
			escalation, err := jsonList(o.Escalation)
			if err != nil {
				return nil, fmt.Errorf("escalation: %w", err)
			}
			return append(a, o.ExternalKey, o.Owned, blob(o.GroupID), o.Name, fold(o.Name), o.Description,
				o.UseDefaultDevices, escalation, o.RoundRobin), nil
		})
	})
}

// DeleteShifts removes shifts; their members go by foreign key,
// memberships of them by trigger.
func (t *dirTx) DeleteShifts(ids []uuid.UUID) error { return t.deleteRows(&shiftsTable, ids) }

func (t *dirTx) SetMembers(members map[uuid.UUID][]*directory.Member) error {
	return t.batch(func() error {
		check, err := t.stmt(`SELECT 1 FROM shifts WHERE id = ? AND company_id = ?`)
		if err != nil {
			return err
		}
		type row struct {
			shift uuid.UUID
			m     *directory.Member
		}
		var rows []row
		for shift, list := range members {
			id := blob(shift)
			var one int
			if err := check.QueryRowContext(t.exctx, id, t.company).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("set members of shift %s: %w", shift, directory.ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("set members of shift %s: %w", shift, err)
			}
			if _, err := t.exec(`DELETE FROM members WHERE shift_id = ?`, id); err != nil {
				return fmt.Errorf("set members of shift %s: %w", shift, err)
			}
			for _, m := range list {
				rows = append(rows, row{shift, m})
			}
		}
		return t.insertRows(memberInserts, len(rows), func(i int, a []any) ([]any, error) {
			r := rows[i]
			return append(a, t.company, blob(r.shift), r.m.Sequence, string(r.m.Type), blob(r.m.MemberID), r.m.Owned), nil
		}, func(i int) string {
			return fmt.Sprintf("set members of shift %s: %s %s", rows[i].shift, rows[i].m.Type, rows[i].m.MemberID)
		})
	})
}

func (t *dirTx) SaveJob(j *directory.Job) error {
	if j.CompanyID != t.companyID {
		return fmt.Errorf("save job %s: company %s in a transaction of company %s", j.ID, j.CompanyID, t.companyID)
	}
	return saveJob(t.ctx, t.tx, j)
}
