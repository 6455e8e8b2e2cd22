-- API users, and the index the API's device pages read through.
--
-- A user's login is unique across the service, case-insensitively:
-- login_key holds it folded by the Go code. password_hash is bcrypt's.
-- roles is a JSON array of role names.

-- +goose Up
CREATE TABLE users (
	id            BLOB    NOT NULL PRIMARY KEY,
	company_id    BLOB    NOT NULL REFERENCES companies (id),
	login         TEXT    NOT NULL,
	login_key     TEXT    NOT NULL UNIQUE,
	password_hash BLOB    NOT NULL,
	roles         TEXT    NOT NULL,
	created       INTEGER NOT NULL
) STRICT;
CREATE INDEX users_company ON users (company_id);

-- Devices of a company page by owner, sequence and name.
CREATE INDEX devices_company_owner ON devices (company_id, owner_id, device_order, name_key);

-- +goose Down
DROP INDEX devices_company_owner;
DROP TABLE users;
