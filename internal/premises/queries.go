package premises

// dialect is the SQL of one premises store. Every query takes the
// company's id as its only argument and returns the columns the writer
// of its file reads, in order; lists are aggregated by the database.
type dialect struct {
	name string
	// version returns the schema version: the highest applied goose
	// migration.
	version string
	company string // arg: the folded name; returns id, name
	sites   string
	people  string
	devices string // a second arg: the device type
	customs string
	groups  string
	shifts  string
	members string
}

const gooseVersion = `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`

var sqliteDialect = dialect{
	name:    "SQLite",
	version: gooseVersion,
	company: `SELECT id, name FROM companies WHERE name_key = ?`,
	sites: `SELECT lower(hex(id)), external_key, owned, name, status, time_zone, language, country,
		address1, address2, city, state, postal_code, latitude, longitude
		FROM sites WHERE company_id = ? ORDER BY external_key, id`,
	people: `SELECT lower(hex(p.id)), p.external_key, p.owned, p.target_name, p.first_name, p.last_name, p.status,
		(SELECT group_concat(j.value, ',' ORDER BY j.key) FROM json_each(p.roles) AS j),
		s.name, p.language, p.time_zone,
		(SELECT group_concat(sp.target_name, ',' ORDER BY ps.position)
			FROM person_supervisors ps JOIN people sp ON sp.id = ps.supervisor_id WHERE ps.person_id = p.id),
		p.web_login
		FROM people p LEFT JOIN sites s ON s.id = p.site_id
		WHERE p.company_id = ? ORDER BY p.external_key, p.id`,
	devices: `SELECT lower(hex(d.id)), d.external_key, d.owned, d.name, d.status, d.is_default, d.device_order, d.delay,
		d.lock_24x7, d.address, d.country, d.area_code, d.phone, d.extension, d.pin, d.provider, d.country_code,
		lower(hex(o.id)), o.external_key
		FROM devices d JOIN people o ON o.id = d.owner_id
		WHERE d.company_id = ? AND d.type = ? ORDER BY d.external_key, d.id`,
	customs: `SELECT lower(hex(c.id)), c.external_key, c.owned, c.field_key, c.value, lower(hex(o.id)), o.external_key
		FROM custom_values c JOIN people o ON o.id = c.person_id
		WHERE c.company_id = ? ORDER BY c.external_key, c.id`,
	groups: `SELECT lower(hex(g.id)), g.external_key, g.owned, g.target_name, g.description, g.status,
		g.use_default_devices, g.time_zone, s.name, g.observed_by_all,
		(SELECT group_concat(j.value, ',' ORDER BY j.key) FROM json_each(g.observers) AS j),
		(SELECT group_concat(sp.target_name, ',' ORDER BY gs.position)
			FROM group_supervisors gs JOIN people sp ON sp.id = gs.supervisor_id WHERE gs.group_id = g.id),
		g.allow_duplicates
		FROM oncall_groups g LEFT JOIN sites s ON s.id = g.site_id
		WHERE g.company_id = ? ORDER BY g.external_key, g.id`,
	shifts: `SELECT lower(hex(sh.id)), sh.external_key, sh.owned, lower(hex(g.id)), g.external_key, sh.name,
		sh.description, sh.use_default_devices,
		(SELECT group_concat(j.value, ',' ORDER BY j.key) FROM json_each(sh.escalation) AS j),
		sh.round_robin
		FROM shifts sh JOIN oncall_groups g ON g.id = sh.group_id
		WHERE sh.company_id = ? ORDER BY sh.external_key, sh.id`,
	members: `SELECT lower(hex(sh.id)), sh.external_key, m.type, lower(hex(m.member_id)),
		COALESCE(pp.external_key, dd.external_key, gg.external_key, ss.external_key), dd.type, m.sequence, m.owned
		FROM members m JOIN shifts sh ON sh.id = m.shift_id
		LEFT JOIN people pp ON m.type = 'PERSON' AND pp.id = m.member_id
		LEFT JOIN devices dd ON m.type = 'DEVICE' AND dd.id = m.member_id
		LEFT JOIN oncall_groups gg ON m.type = 'GROUP' AND gg.id = m.member_id
		LEFT JOIN shifts ss ON m.type = 'TEAM' AND ss.id = m.member_id
		WHERE m.company_id = ? ORDER BY sh.external_key, sh.id, m.sequence`,
}

var postgresDialect = dialect{
	name:    "PostgreSQL",
	version: gooseVersion,
	company: `SELECT id::text, name FROM companies WHERE name_key = $1`,
	sites: `SELECT id::text, external_key, owned, name, status, time_zone, language, country,
		address1, address2, city, state, postal_code, latitude, longitude
		FROM sites WHERE company_id = $1 ORDER BY external_key, id`,
	people: `SELECT p.id::text, p.external_key, p.owned, p.target_name, p.first_name, p.last_name, p.status,
		array_to_string(p.roles, ','),
		s.name, p.language, p.time_zone,
		(SELECT string_agg(sp.target_name, ',' ORDER BY ps.seq)
			FROM person_supervisors ps JOIN people sp ON sp.company_id = ps.company_id AND sp.id = ps.supervisor_id
			WHERE ps.company_id = p.company_id AND ps.person_id = p.id),
		p.web_login
		FROM people p LEFT JOIN sites s ON s.company_id = p.company_id AND s.id = p.site_id
		WHERE p.company_id = $1 ORDER BY p.external_key, p.id`,
	devices: `SELECT d.id::text, d.external_key, d.owned, d.name, d.status, d.is_default, d.sort_order, d.delay,
		d.lock_24x7, d.address, d.country, d.area_code, d.phone, d.extension, d.pin, d.provider, d.country_code,
		o.id::text, o.external_key
		FROM devices d JOIN people o ON o.company_id = d.company_id AND o.id = d.owner_id
		WHERE d.company_id = $1 AND d.type = $2 ORDER BY d.external_key, d.id`,
	customs: `SELECT c.id::text, c.external_key, c.owned, c.field_key, c.value, o.id::text, o.external_key
		FROM custom_values c JOIN people o ON o.company_id = c.company_id AND o.id = c.person_id
		WHERE c.company_id = $1 ORDER BY c.external_key, c.id`,
	groups: `SELECT g.id::text, g.external_key, g.owned, g.target_name, g.description, g.status,
		g.use_default_devices, g.time_zone, s.name, g.observed_by_all,
		array_to_string(g.observers, ','),
		(SELECT string_agg(sp.target_name, ',' ORDER BY gs.seq)
			FROM group_supervisors gs JOIN people sp ON sp.company_id = gs.company_id AND sp.id = gs.supervisor_id
			WHERE gs.company_id = g.company_id AND gs.group_id = g.id),
		g.allow_duplicates
		FROM groups g LEFT JOIN sites s ON s.company_id = g.company_id AND s.id = g.site_id
		WHERE g.company_id = $1 ORDER BY g.external_key, g.id`,
	shifts: `SELECT sh.id::text, sh.external_key, sh.owned, g.id::text, g.external_key, sh.name,
		sh.description, sh.use_default_devices, array_to_string(sh.escalation, ','), sh.round_robin
		FROM shifts sh JOIN groups g ON g.company_id = sh.company_id AND g.id = sh.group_id
		WHERE sh.company_id = $1 ORDER BY sh.external_key, sh.id`,
	members: `SELECT sh.id::text, sh.external_key, m.type, m.member_id::text,
		COALESCE(pp.external_key, dd.external_key, gg.external_key, ss.external_key), dd.type, m.sequence, m.owned
		FROM members m JOIN shifts sh ON sh.company_id = m.company_id AND sh.id = m.shift_id
		LEFT JOIN people pp ON m.type = 'PERSON' AND pp.company_id = m.company_id AND pp.id = m.member_id
		LEFT JOIN devices dd ON m.type = 'DEVICE' AND dd.company_id = m.company_id AND dd.id = m.member_id
		LEFT JOIN groups gg ON m.type = 'GROUP' AND gg.company_id = m.company_id AND gg.id = m.member_id
		LEFT JOIN shifts ss ON m.type = 'TEAM' AND ss.company_id = m.company_id AND ss.id = m.member_id
		WHERE m.company_id = $1 ORDER BY sh.external_key, sh.id, m.sequence`,
}
