package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/epicsync/epic/internal/directory"
)

// txn is the directory.Tx of Update. A write that fails aborts the
// transaction, as PostgreSQL does: fn must return the error, and if it
// does not, Update fails with the write's error all the same. (Savepoints
// would let fn go on, at a subtransaction a call; the contract does not ask
// for it, and the sqlite store does not do it either.)
type txn struct {
	view
	temps  map[string]bool // the temporary tables made in this transaction
	failed error           // the first write that failed
}

var _ directory.Tx = (*txn)(nil)

// write runs one Put, Delete, SetMembers or SaveJob call. refs: a missing
// referenced row is ErrNotFound (see mapErr).
func (t *txn) write(what string, refs bool, f func(q pgx.Tx) error) error {
	if t.failed != nil {
		return fmt.Errorf("%s: an earlier write failed: %w", what, t.failed)
	}
	if err := f(t.tx); err != nil {
		t.failed = fmt.Errorf("%s: %w", what, mapErr(err, refs))
		return t.failed
	}
	return nil
}

// temp returns the name of an empty temporary table with the columns cols
// of table, made at its first use in the transaction and emptied at each
// later one: a table made and dropped at every call would hold a lock
// until the transaction ends, and thousands of calls would run out of
// them.
func (t *txn) temp(q pgx.Tx, table string, cols []string) (string, error) {
	name := "epic_tmp_" + table
	if t.temps[name] {
		_, err := q.Exec(t.ctx, "TRUNCATE "+name)
		return name, err
	}
	if _, err := q.Exec(t.ctx, "CREATE TEMP TABLE "+name+" ON COMMIT DROP AS SELECT "+
		strings.Join(cols, ", ")+" FROM "+table+" WITH NO DATA"); err != nil {
		return "", err
	}
	if t.temps == nil {
		t.temps = map[string]bool{}
	}
	t.temps[name] = true
	return name, nil
}

// table describes how one kind of object is written.
type table[T any] struct {
	name string
	cols []string // after company_id; cols[0] is id
	// row returns the values of company_id and cols.
	row func(company uuid.UUID, x T) []any
	id  func(x T) uuid.UUID
	// children, when set, writes the child rows of xs; replace: xs
	// existed, their old child rows are replaced.
	children func(t *txn, q pgx.Tx, xs []T, replace bool) error
}

// put inserts xs with COPY, or updates them by ID with COPY into a
// temporary table and one UPDATE … FROM; an ID that is not the company's
// is ErrNotFound.
func put[T any](t *txn, tb *table[T], insert bool, xs []T) error {
	if len(xs) == 0 {
		return nil
	}
	what := "update " + tb.name
	if insert {
		what = "insert " + tb.name
	}
	return t.write(what, true, func(q pgx.Tx) error {
		cols := append([]string{"company_id"}, tb.cols...)
		if insert && len(xs) <= smallBatch {
			rows := make([][]any, len(xs))
			for i, x := range xs {
				rows[i] = tb.row(t.company, x)
			}
			if err := t.copyRows(q, tb.name, cols, rows); err != nil {
				return err
			}
		} else if insert {
			_, err := q.CopyFrom(t.ctx, pgx.Identifier{tb.name}, cols,
				pgx.CopyFromSlice(len(xs), func(i int) ([]any, error) { return tb.row(t.company, xs[i]), nil }))
			if err != nil {
				return err
			}
			if len(xs) >= analyzeAfter {
				// A bulk load into a table the planner thinks small makes
				// the cascades of later deletes in this transaction scan it
				// whole, once per deleted row (100,000 people: 95 s to delete
				// 1,000 of them). Fresh statistics keep them on the indexes.
				if _, err := q.Exec(t.ctx, "ANALYZE "+pgx.Identifier{tb.name}.Sanitize()); err != nil {
					return err
				}
			}
		} else if err := update(t, q, tb, xs); err != nil {
			return err
		}
		if tb.children != nil {
			return tb.children(t, q, xs, !insert)
		}
		return nil
	})
}

// smallBatch is the size up to which a batch is written with one
// statement a row, sent together: cheaper than COPY and a temporary table
// for the few rows of a call made for one object.
const smallBatch = 32

func update[T any](t *txn, q pgx.Tx, tb *table[T], xs []T) error {
	ids := make(map[uuid.UUID]struct{}, len(xs))
	for _, x := range xs {
		ids[tb.id(x)] = struct{}{}
	}
	if len(xs) <= smallBatch {
		return updateRows(t, q, tb, xs)
	}
	tmp, err := t.temp(q, tb.name, tb.cols)
	if err != nil {
		return err
	}
	if _, err := q.CopyFrom(t.ctx, pgx.Identifier{tmp}, tb.cols,
		pgx.CopyFromSlice(len(xs), func(i int) ([]any, error) { return tb.row(t.company, xs[i])[1:], nil })); err != nil {
		return err
	}
	if len(xs) > 1000 {
		if _, err := q.Exec(t.ctx, "ANALYZE "+tmp); err != nil {
			return err
		}
	}
	var set strings.Builder
	for i, c := range tb.cols[1:] {
		if i > 0 {
			set.WriteString(", ")
		}
		fmt.Fprintf(&set, "%s = u.%s", c, c)
	}
	tag, err := q.Exec(t.ctx, "UPDATE "+tb.name+" t SET "+set.String()+" FROM "+tmp+
		" u WHERE t.company_id = $1 AND t.id = u.id", pgID(t.company))
	if err != nil {
		return err
	}
	if n := tag.RowsAffected(); n != int64(len(ids)) {
		return fmt.Errorf("%d of %d %s: %w", int64(len(ids))-n, len(ids), tb.name, directory.ErrNotFound)
	}
	return nil
}

// updateRows updates xs with one UPDATE a row.
func updateRows[T any](t *txn, q pgx.Tx, tb *table[T], xs []T) error {
	var set strings.Builder
	for i, c := range tb.cols[1:] {
		if i > 0 {
			set.WriteString(", ")
		}
		fmt.Fprintf(&set, "%s = $%d", c, i+3)
	}
	sql := "UPDATE " + tb.name + " SET " + set.String() + " WHERE company_id = $1 AND id = $2"
	b := &pgx.Batch{}
	for _, x := range xs {
		b.Queue(sql, tb.row(t.company, x)...)
	}
	res := q.SendBatch(t.ctx, b)
	found := 0
	for range xs {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return err
		}
		if tag.RowsAffected() > 0 {
			found++
		}
	}
	if err := res.Close(); err != nil {
		return err
	}
	// A row given twice counts twice: compare with len(xs), not n.
	if found != len(xs) {
		return fmt.Errorf("%d of %d %s: %w", len(xs)-found, len(xs), tb.name, directory.ErrNotFound)
	}
	return nil
}

// queueInserts queues one INSERT a row of rows (values of cols).
func queueInserts(b *pgx.Batch, name string, cols []string, rows [][]any) {
	params := make([]string, len(cols))
	for i := range params {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	sql := "INSERT INTO " + name + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
	for _, r := range rows {
		b.Queue(sql, r...)
	}
}

// analyzeAfter is the size of an insert after which the table's
// statistics are refreshed in the transaction.
const analyzeAfter = 10_000

// copyRows writes rows (values of cols) into name: with COPY, or, for a
// few, with one INSERT a row sent together.
func (t *txn) copyRows(q pgx.Tx, name string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if len(rows) <= smallBatch {
		b := &pgx.Batch{}
		queueInserts(b, name, cols, rows)
		return q.SendBatch(t.ctx, b).Close()
	}
	_, err := q.CopyFrom(t.ctx, pgx.Identifier{name}, cols, pgx.CopyFromRows(rows))
	return err
}

// exec runs statements whose $1 is the company and $2 the ids, in one
// round trip.
func (t *txn) exec(q pgx.Tx, ids []uuid.UUID, stmts ...string) error {
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s, pgID(t.company), pgIDs(ids))
	}
	return q.SendBatch(t.ctx, b).Close()
}

func idsOf[T any](xs []T, id func(T) uuid.UUID) []uuid.UUID {
	ids := make([]uuid.UUID, len(xs))
	for i, x := range xs {
		ids[i] = id(x)
	}
	return ids
}

// del deletes ids of the company, after the statements before (which
// remove what no foreign key cascades to).
func (t *txn) del(what string, ids []uuid.UUID, stmts ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return t.write("delete "+what, false, func(q pgx.Tx) error { return t.exec(q, ids, stmts...) })
}

// putLinks writes the supervisor links of xs into table (owner: its column
// naming x). New objects' links are inserted. For updated ones, a few are
// replaced outright; many are COPYed into a temporary table and only the
// difference is applied, so that links that stay (the usual case) cost no
// write and no foreign key check.
func putLinks[T any](t *txn, q pgx.Tx, table, owner string, replace bool, xs []T,
	id func(T) uuid.UUID, links func(T) []uuid.UUID) error {
	var rows [][]any
	for _, x := range xs {
		for i, s := range links(x) {
			rows = append(rows, []any{pgID(t.company), pgID(id(x)), i, pgID(s)})
		}
	}
	cols := []string{"company_id", owner, "seq", "supervisor_id"}
	if !replace {
		return t.copyRows(q, table, cols, rows)
	}
	if len(xs) <= smallBatch {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM `+table+` WHERE company_id = $1 AND `+owner+` = ANY($2)`,
			pgID(t.company), pgIDs(idsOf(xs, id)))
		queueInserts(b, table, cols, rows)
		return q.SendBatch(t.ctx, b).Close()
	}
	tmp, err := t.temp(q, table, cols)
	if err != nil {
		return err
	}
	if err := t.copyRows(q, tmp, cols, rows); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM `+table+` s WHERE s.company_id = $1 AND s.`+owner+` = ANY($2) AND NOT EXISTS
		(SELECT 1 FROM `+tmp+` n
		WHERE n.`+owner+` = s.`+owner+` AND n.seq = s.seq AND n.supervisor_id = s.supervisor_id)`,
		pgID(t.company), pgIDs(idsOf(xs, id)))
	b.Queue(`INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `)
		SELECT company_id, ` + owner + `, seq, supervisor_id FROM ` + tmp + ` n
		WHERE NOT EXISTS (SELECT 1 FROM ` + table + ` s
			WHERE s.company_id = n.company_id AND s.` + owner + ` = n.` + owner + ` AND s.seq = n.seq)`)
	return q.SendBatch(t.ctx, b).Close()
}

var sites = &table[*directory.Site]{
	name: "sites",
	cols: []string{"id", "external_key", "owned", "name", "name_key", "status", "time_zone", "language", "country",
		"address1", "address2", "city", "state", "postal_code", "latitude", "longitude"},
	row: func(c uuid.UUID, s *directory.Site) []any {
		return []any{pgID(c), pgID(s.ID), s.ExternalKey, s.Owned, s.Name, fold(s.Name), s.Status, s.TimeZone, s.Language, s.Country,
			s.Address1, s.Address2, s.City, s.State, s.PostalCode, s.Latitude, s.Longitude}
	},
	id: func(s *directory.Site) uuid.UUID { return s.ID },
}

func (t *txn) PutSites(insert bool, s []*directory.Site) error { return put(t, sites, insert, s) }

// errSiteInUse is the error of DeleteSites when a person or group still
// uses a site, which the caller must never ask (directory.Tx).
var errSiteInUse = errors.New("site in use")

// DeleteSites implements directory.Tx. A site that a person or group
// still uses is not deleted: the call fails (as the sqlite store's foreign
// key makes it fail). (No foreign key checks it: that
// would cost every person inserted; this check reads the company's people
// once, only when sites go.)
func (t *txn) DeleteSites(ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	return t.write("delete sites", false, func(q pgx.Tx) error {
		var used pgtype.UUID
		err := q.QueryRow(t.ctx, `
			(SELECT site_id FROM people WHERE company_id = $1 AND site_id = ANY($2) LIMIT 1)
			UNION ALL
			(SELECT site_id FROM groups WHERE company_id = $1 AND site_id = ANY($2) LIMIT 1)
			LIMIT 1`, pgID(t.company), pgIDs(ids)).Scan(&used)
		switch {
		case err == nil:
			return fmt.Errorf("%w: %s", errSiteInUse, uuid.UUID(used.Bytes))
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		return t.exec(q, ids, `DELETE FROM sites WHERE company_id = $1 AND id = ANY($2)`)
	})
}

var people = &table[*directory.Person]{
	name: "people",
	cols: []string{"id", "external_key", "owned", "target_name", "target_key", "first_name", "last_name", "status",
		"site_id", "language", "time_zone", "web_login", "password_set", "roles"},
	row: func(c uuid.UUID, p *directory.Person) []any {
		return []any{pgID(c), pgID(p.ID), p.ExternalKey, p.Owned, p.TargetName, fold(p.TargetName), p.FirstName, p.LastName, p.Status,
			pgID(p.SiteID), p.Language, p.TimeZone, p.WebLogin, p.PasswordSet, notNil(p.Roles)}
	},
	id: func(p *directory.Person) uuid.UUID { return p.ID },
	children: func(t *txn, q pgx.Tx, ps []*directory.Person, replace bool) error {
		return putLinks(t, q, "person_supervisors", "person_id", replace, ps,
			func(p *directory.Person) uuid.UUID { return p.ID },
			func(p *directory.Person) []uuid.UUID { return p.Supervisors })
	},
}

func (t *txn) PutPeople(insert bool, p []*directory.Person) error { return put(t, people, insert, p) }

// DeletePeople implements directory.Tx. Devices, custom values and
// supervisor links follow by cascade; memberships are deleted here.
func (t *txn) DeletePeople(ids []uuid.UUID) error {
	return t.del("people", ids,
		`DELETE FROM members WHERE company_id = $1 AND type = '`+string(directory.MemberPerson)+`' AND member_id = ANY($2)`,
		`DELETE FROM members WHERE company_id = $1 AND type = '`+string(directory.MemberDevice)+`' AND member_id IN
			(SELECT id FROM devices WHERE company_id = $1 AND owner_id = ANY($2))`,
		`DELETE FROM people WHERE company_id = $1 AND id = ANY($2)`)
}

var devices = &table[*directory.Device]{
	name: "devices",
	cols: []string{"id", "external_key", "owned", "owner_id", "type", "name", "name_key", "status", "is_default",
		"sort_order", "delay", "lock_24x7", "address", "country", "area_code", "phone", "extension", "pin",
		"provider", "country_code"},
	row: func(c uuid.UUID, d *directory.Device) []any {
		return []any{pgID(c), pgID(d.ID), d.ExternalKey, d.Owned, pgID(d.OwnerID), string(d.Type), d.Name, fold(d.Name), d.Status, d.Default,
			d.Order, d.Delay, d.Lock24x7, d.Address, d.Country, d.AreaCode, d.Phone, d.Extension, d.PIN,
			d.Provider, d.CountryCode}
	},
	id: func(d *directory.Device) uuid.UUID { return d.ID },
}

func (t *txn) PutDevices(insert bool, d []*directory.Device) error { return put(t, devices, insert, d) }

func (t *txn) DeleteDevices(ids []uuid.UUID) error {
	return t.del("devices", ids,
		`DELETE FROM members WHERE company_id = $1 AND type = '`+string(directory.MemberDevice)+`' AND member_id = ANY($2)`,
		`DELETE FROM devices WHERE company_id = $1 AND id = ANY($2)`)
}

var customValues = &table[*directory.CustomValue]{
	name: "custom_values",
	cols: []string{"id", "external_key", "owned", "person_id", "field_key", "value"},
	row: func(c uuid.UUID, v *directory.CustomValue) []any {
		return []any{pgID(c), pgID(v.ID), v.ExternalKey, v.Owned, pgID(v.PersonID), v.FieldKey, v.Value}
	},
	id: func(v *directory.CustomValue) uuid.UUID { return v.ID },
}

func (t *txn) PutCustomValues(insert bool, v []*directory.CustomValue) error {
	return put(t, customValues, insert, v)
}

func (t *txn) DeleteCustomValues(ids []uuid.UUID) error {
	return t.del("custom values", ids, `DELETE FROM custom_values WHERE company_id = $1 AND id = ANY($2)`)
}

var groups = &table[*directory.Group]{
	name: "groups",
	cols: []string{"id", "external_key", "owned", "target_name", "target_key", "description", "status",
		"use_default_devices", "time_zone", "site_id", "observed_by_all", "observers", "allow_duplicates"},
	row: func(c uuid.UUID, g *directory.Group) []any {
		return []any{pgID(c), pgID(g.ID), g.ExternalKey, g.Owned, g.TargetName, fold(g.TargetName), g.Description, g.Status,
			g.UseDefaultDevices, g.TimeZone, pgID(g.SiteID), g.ObservedByAll, notNil(g.Observers), g.AllowDuplicates}
	},
	id: func(g *directory.Group) uuid.UUID { return g.ID },
	children: func(t *txn, q pgx.Tx, gs []*directory.Group, replace bool) error {
		return putLinks(t, q, "group_supervisors", "group_id", replace, gs,
			func(g *directory.Group) uuid.UUID { return g.ID },
			func(g *directory.Group) []uuid.UUID { return g.Supervisors })
	},
}

func (t *txn) PutGroups(insert bool, g []*directory.Group) error { return put(t, groups, insert, g) }

// DeleteGroups implements directory.Tx. Besides what the contract names,
// memberships of the groups' shifts in other shifts (TEAM members) go too,
// as DeleteShifts would remove them.
func (t *txn) DeleteGroups(ids []uuid.UUID) error {
	return t.del("groups", ids,
		`DELETE FROM members WHERE company_id = $1 AND type = '`+string(directory.MemberGroup)+`' AND member_id = ANY($2)`,
		`DELETE FROM members WHERE company_id = $1 AND type = '`+string(directory.MemberShift)+`' AND member_id IN
			(SELECT id FROM shifts WHERE company_id = $1 AND group_id = ANY($2))`,
		`DELETE FROM groups WHERE company_id = $1 AND id = ANY($2)`)
}

var shifts = &table[*directory.Shift]{
	name: "shifts",
	cols: []string{"id", "external_key", "owned", "group_id", "name", "name_key", "description", "use_default_devices",
		"escalation", "round_robin"},
	row: func(c uuid.UUID, s *directory.Shift) []any {
		return []any{pgID(c), pgID(s.ID), s.ExternalKey, s.Owned, pgID(s.GroupID), s.Name, fold(s.Name), s.Description, s.UseDefaultDevices,
			notNil(s.Escalation), s.RoundRobin}
	},
	id: func(s *directory.Shift) uuid.UUID { return s.ID },
}

func (t *txn) PutShifts(insert bool, s []*directory.Shift) error { return put(t, shifts, insert, s) }

func (t *txn) DeleteShifts(ids []uuid.UUID) error {
	return t.del("shifts", ids,
		`DELETE FROM members WHERE company_id = $1 AND type = '`+string(directory.MemberShift)+`' AND member_id = ANY($2)`,
		`DELETE FROM shifts WHERE company_id = $1 AND id = ANY($2)`)
}

// SetMembers implements directory.Tx. The map's key is the shift: a
// member's ShiftID is not read.
func (t *txn) SetMembers(members map[uuid.UUID][]*directory.Member) error {
	if len(members) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(members))
	var rows [][]any
	for shift, ms := range members {
		ids = append(ids, shift)
		for _, m := range ms {
			rows = append(rows, []any{pgID(t.company), pgID(shift), string(m.Type), pgID(m.MemberID), m.Sequence, m.Owned})
		}
	}
	return t.write("set members", true, func(q pgx.Tx) error {
		var n int
		if err := q.QueryRow(t.ctx, `SELECT count(*) FROM shifts WHERE company_id = $1 AND id = ANY($2)`,
			pgID(t.company), pgIDs(ids)).Scan(&n); err != nil {
			return err
		}
		if n != len(ids) {
			return fmt.Errorf("%d of %d shifts: %w", len(ids)-n, len(ids), directory.ErrNotFound)
		}
		if err := t.exec(q, ids, `DELETE FROM members WHERE company_id = $1 AND shift_id = ANY($2)`); err != nil {
			return err
		}
		return t.copyRows(q, "members",
			[]string{"company_id", "shift_id", "type", "member_id", "sequence", "owned"}, rows)
	})
}

// SaveJob implements directory.Tx.
func (t *txn) SaveJob(j *directory.Job) error {
	return t.write("save job "+j.ID.String(), true, func(q pgx.Tx) error { return saveJob(t.ctx, q, j) })
}

// notNil writes a nil list as an empty array: the array columns are NOT
// NULL.
func notNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
