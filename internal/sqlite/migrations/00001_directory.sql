-- The directory of every company, and the import jobs.
--
-- IDs are UUIDs stored as 16-byte BLOBs. Names that are unique
-- case-insensitively have a *_key column beside them holding the name
-- folded by the Go code (strings.ToLower: Unicode, unlike SQLite's lower()),
-- and the unique index is on that column. Lists that a removal must reach
-- (supervisors) are child tables; other lists are JSON text, NULL when
-- empty. Booleans are 0/1. Times are Unix nanoseconds (UTC), NULL for the
-- zero time.

-- +goose Up
CREATE TABLE companies (
	id           BLOB    NOT NULL PRIMARY KEY,
	name         TEXT    NOT NULL,
	name_key     TEXT    NOT NULL UNIQUE,
	epic_enabled INTEGER NOT NULL,
	config       TEXT    NOT NULL, -- JSON of directory.Config
	created      INTEGER NOT NULL
) STRICT;

CREATE TABLE sites (
	id           BLOB    NOT NULL PRIMARY KEY,
	company_id   BLOB    NOT NULL REFERENCES companies (id),
	external_key TEXT    NOT NULL,
	owned        INTEGER NOT NULL,
	name         TEXT    NOT NULL,
	name_key     TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	time_zone    TEXT    NOT NULL,
	language     TEXT    NOT NULL,
	country      TEXT    NOT NULL,
	address1     TEXT    NOT NULL,
	address2     TEXT    NOT NULL,
	city         TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	postal_code  TEXT    NOT NULL,
	latitude     TEXT    NOT NULL,
	longitude    TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX sites_name ON sites (company_id, name_key);
CREATE INDEX sites_external_key ON sites (company_id, external_key);

CREATE TABLE people (
	id           BLOB    NOT NULL PRIMARY KEY,
	company_id   BLOB    NOT NULL REFERENCES companies (id),
	external_key TEXT    NOT NULL,
	owned        INTEGER NOT NULL,
	target_name  TEXT    NOT NULL,
	target_key   TEXT    NOT NULL,
	first_name   TEXT    NOT NULL,
	last_name    TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	site_id      BLOB    REFERENCES sites (id), -- the caller removes no site in use
	language     TEXT    NOT NULL,
	time_zone    TEXT    NOT NULL,
	web_login    TEXT    NOT NULL,
	roles        TEXT,                          -- JSON array of role names
	password_set INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX people_target_name ON people (company_id, target_key);
CREATE INDEX people_external_key ON people (company_id, external_key);
CREATE INDEX people_site ON people (site_id);

CREATE TABLE person_supervisors (
	person_id     BLOB    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	position      INTEGER NOT NULL,
	supervisor_id BLOB    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	PRIMARY KEY (person_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_supervisors_supervisor ON person_supervisors (supervisor_id);

CREATE TABLE devices (
	id           BLOB    NOT NULL PRIMARY KEY,
	company_id   BLOB    NOT NULL REFERENCES companies (id),
	external_key TEXT    NOT NULL,
	owned        INTEGER NOT NULL,
	owner_id     BLOB    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	type         TEXT    NOT NULL,
	name         TEXT    NOT NULL,
	name_key     TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	is_default   INTEGER NOT NULL,
	device_order INTEGER NOT NULL,
	delay        INTEGER NOT NULL,
	lock_24x7    INTEGER NOT NULL,
	address      TEXT    NOT NULL,
	country      TEXT    NOT NULL,
	area_code    TEXT    NOT NULL,
	phone        TEXT    NOT NULL,
	extension    TEXT    NOT NULL,
	pin          TEXT    NOT NULL,
	provider     TEXT    NOT NULL,
	country_code TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX devices_name ON devices (owner_id, name_key);
CREATE INDEX devices_external_key ON devices (company_id, external_key);

CREATE TABLE custom_values (
	id           BLOB    NOT NULL PRIMARY KEY,
	company_id   BLOB    NOT NULL REFERENCES companies (id),
	external_key TEXT    NOT NULL,
	owned        INTEGER NOT NULL,
	person_id    BLOB    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	field_key    TEXT    NOT NULL,
	value        TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX custom_values_field ON custom_values (person_id, field_key);
CREATE INDEX custom_values_external_key ON custom_values (company_id, external_key);

-- "groups" is an SQL keyword.
CREATE TABLE oncall_groups (
	id                  BLOB    NOT NULL PRIMARY KEY,
	company_id          BLOB    NOT NULL REFERENCES companies (id),
	external_key        TEXT    NOT NULL,
	owned               INTEGER NOT NULL,
	target_name         TEXT    NOT NULL,
	target_key          TEXT    NOT NULL,
	description         TEXT    NOT NULL,
	status              TEXT    NOT NULL,
	use_default_devices INTEGER NOT NULL,
	time_zone           TEXT    NOT NULL,
	site_id             BLOB    REFERENCES sites (id), -- NULL: none
	observed_by_all     INTEGER NOT NULL,
	observers           TEXT,                          -- JSON array of role names
	allow_duplicates    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX oncall_groups_target_name ON oncall_groups (company_id, target_key);
CREATE INDEX oncall_groups_external_key ON oncall_groups (company_id, external_key);
CREATE INDEX oncall_groups_site ON oncall_groups (site_id);

CREATE TABLE group_supervisors (
	group_id      BLOB    NOT NULL REFERENCES oncall_groups (id) ON DELETE CASCADE,
	position      INTEGER NOT NULL,
	supervisor_id BLOB    NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX group_supervisors_supervisor ON group_supervisors (supervisor_id);

CREATE TABLE shifts (
	id                  BLOB    NOT NULL PRIMARY KEY,
	company_id          BLOB    NOT NULL REFERENCES companies (id),
	external_key        TEXT    NOT NULL,
	owned               INTEGER NOT NULL,
	group_id            BLOB    NOT NULL REFERENCES oncall_groups (id) ON DELETE CASCADE,
	name                TEXT    NOT NULL,
	name_key            TEXT    NOT NULL,
	description         TEXT    NOT NULL,
	use_default_devices INTEGER NOT NULL,
	escalation          TEXT,   -- JSON array of minutes
	round_robin         INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX shifts_name ON shifts (group_id, name_key);
CREATE INDEX shifts_external_key ON shifts (company_id, external_key);

-- A shift's escalation order. member_id names a person, device, group or
-- shift (type says which), so the triggers below remove memberships of a
-- removed object; a removed shift's own members go by its foreign key.
CREATE TABLE members (
	company_id BLOB    NOT NULL REFERENCES companies (id),
	shift_id   BLOB    NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
	sequence   INTEGER NOT NULL,
	type       TEXT    NOT NULL,
	member_id  BLOB    NOT NULL,
	owned      INTEGER NOT NULL
) STRICT;
CREATE INDEX members_shift ON members (shift_id, sequence);
CREATE INDEX members_member ON members (member_id);
CREATE INDEX members_company ON members (company_id);

-- +goose StatementBegin
CREATE TRIGGER people_memberships AFTER DELETE ON people BEGIN
	DELETE FROM members WHERE member_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER devices_memberships AFTER DELETE ON devices BEGIN
	DELETE FROM members WHERE member_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER oncall_groups_memberships AFTER DELETE ON oncall_groups BEGIN
	DELETE FROM members WHERE member_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER shifts_memberships AFTER DELETE ON shifts BEGIN
	DELETE FROM members WHERE member_id = OLD.id;
END;
-- +goose StatementEnd

CREATE TABLE jobs (
	id             BLOB    NOT NULL PRIMARY KEY,
	company_id     BLOB    NOT NULL REFERENCES companies (id),
	name           TEXT    NOT NULL,
	status         TEXT    NOT NULL,
	uploaded_by    TEXT    NOT NULL,
	client_version TEXT    NOT NULL,
	started        INTEGER,
	updated        INTEGER,
	finished       INTEGER,
	manifest       TEXT    NOT NULL, -- JSON of directory.JobManifest
	total          INTEGER NOT NULL,
	processed      INTEGER NOT NULL,
	superseded_by  BLOB,             -- NULL: not superseded
	summary        TEXT,             -- JSON array of directory.SummaryLine
	details        TEXT,             -- JSON array of directory.Detail
	rows           BLOB              -- gzip-compressed CSV
) STRICT;
CREATE INDEX jobs_company_started ON jobs (company_id, started DESC, id DESC);

-- +goose Down
DROP TABLE jobs;
DROP TABLE members;
DROP TABLE shifts;
DROP TABLE group_supervisors;
DROP TABLE oncall_groups;
DROP TABLE custom_values;
DROP TABLE devices;
DROP TABLE person_supervisors;
DROP TABLE people;
DROP TABLE sites;
DROP TABLE companies;
