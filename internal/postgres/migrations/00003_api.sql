-- API users, and the index the API's device pages read through.
--
-- A user's login is unique across the service, case-insensitively:
-- login_key holds it as Go folds it. password_hash is bcrypt's.

-- +goose Up
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    company_id    uuid        NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    login         text        COLLATE "C" NOT NULL,
    login_key     text        COLLATE "C" NOT NULL,
    password_hash bytea       NOT NULL,
    roles         text[]      NOT NULL,
    created       timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_login ON users (login_key);
CREATE INDEX users_company ON users (company_id);

-- Devices of a company page by owner, sequence and name.
CREATE INDEX devices_company_owner ON devices (company_id, owner_id, sort_order, name_key);

-- +goose Down
DROP INDEX devices_company_owner;
DROP TABLE users;
