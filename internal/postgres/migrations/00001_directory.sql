-- The directory of every company and its import jobs.
--
-- Objects are keyed by (company_id, id), and the foreign keys between them
-- carry company_id, so a reference never crosses companies and every index
-- a company's reads use starts with it. Foreign keys are kept where a
-- cascade follows them (a person's devices, custom values and supervisor
-- links; a group's shifts and supervisor links; a shift's members): the
-- checks they cost on insert are paid only there. Lists that no cascade
-- follows (roles, observers, escalation) are arrays in their row.
--
-- A name unique case-insensitively has a *_key column beside it holding
-- the name as Go folds it (strings.ToLower, as the engine and the sqlite
-- store do, whatever the server's locale), and the unique index is on that
-- column. Names and keys are COLLATE "C": bytewise, the fastest to index.

-- +goose Up
CREATE TABLE companies (
    id           uuid        PRIMARY KEY,
    name         text        COLLATE "C" NOT NULL,
    name_key     text        COLLATE "C" NOT NULL,
    epic_enabled boolean     NOT NULL,
    config       jsonb       NOT NULL,
    created      timestamptz NOT NULL
);
CREATE UNIQUE INDEX companies_name ON companies (name_key);

CREATE TABLE sites (
    company_id   uuid    NOT NULL,
    id           uuid    NOT NULL,
    external_key text    COLLATE "C" NOT NULL,
    owned        boolean NOT NULL,
    name         text    COLLATE "C" NOT NULL,
    name_key     text    COLLATE "C" NOT NULL,
    status       text    NOT NULL,
    time_zone    text    NOT NULL,
    language     text    NOT NULL,
    country      text    NOT NULL,
    address1     text    NOT NULL,
    address2     text    NOT NULL,
    city         text    NOT NULL,
    state        text    NOT NULL,
    postal_code  text    NOT NULL,
    latitude     text    NOT NULL,
    longitude    text    NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX sites_name ON sites (company_id, name_key);
CREATE INDEX sites_key ON sites (company_id, external_key);

-- site_id has no foreign key: its check would cost every person put.
-- DeleteSites looks for people and groups using the sites instead.
CREATE TABLE people (
    company_id   uuid    NOT NULL,
    id           uuid    NOT NULL,
    external_key text    COLLATE "C" NOT NULL,
    owned        boolean NOT NULL,
    target_name  text    COLLATE "C" NOT NULL,
    target_key   text    COLLATE "C" NOT NULL,
    first_name   text    NOT NULL,
    last_name    text    NOT NULL,
    status       text    NOT NULL,
    site_id      uuid,
    language     text    NOT NULL,
    time_zone    text    NOT NULL,
    web_login    text    NOT NULL,
    password_set boolean NOT NULL,
    roles        text[]  NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX people_target_name ON people (company_id, target_key);
CREATE INDEX people_key ON people (company_id, external_key);

-- The supervisor's key is checked at commit: a person may name a
-- supervisor put later in the same transaction.
CREATE TABLE person_supervisors (
    company_id    uuid    NOT NULL,
    person_id     uuid    NOT NULL,
    seq           integer NOT NULL,
    supervisor_id uuid    NOT NULL,
    PRIMARY KEY (company_id, person_id, seq),
    FOREIGN KEY (company_id, person_id) REFERENCES people (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, supervisor_id) REFERENCES people (company_id, id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX person_supervisors_supervisor ON person_supervisors (company_id, supervisor_id);

CREATE TABLE devices (
    company_id   uuid    NOT NULL,
    id           uuid    NOT NULL,
    external_key text    COLLATE "C" NOT NULL,
    owned        boolean NOT NULL,
    owner_id     uuid    NOT NULL,
    type         text    NOT NULL,
    name         text    COLLATE "C" NOT NULL,
    name_key     text    COLLATE "C" NOT NULL,
    status       text    NOT NULL,
    is_default   boolean NOT NULL,
    sort_order   integer NOT NULL,
    delay        integer NOT NULL,
    lock_24x7    boolean NOT NULL,
    address      text    NOT NULL,
    country      text    NOT NULL,
    area_code    text    NOT NULL,
    phone        text    NOT NULL,
    extension    text    NOT NULL,
    pin          text    NOT NULL,
    provider     text    NOT NULL,
    country_code text    NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, owner_id) REFERENCES people (company_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX devices_owner_name ON devices (company_id, owner_id, name_key);
CREATE INDEX devices_key ON devices (company_id, external_key);

CREATE TABLE custom_values (
    company_id   uuid    NOT NULL,
    id           uuid    NOT NULL,
    external_key text    COLLATE "C" NOT NULL,
    owned        boolean NOT NULL,
    person_id    uuid    NOT NULL,
    field_key    text    COLLATE "C" NOT NULL,
    value        text    NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, person_id) REFERENCES people (company_id, id) ON DELETE CASCADE
);
-- Field keys are compared exactly, as the engine compares them.
CREATE UNIQUE INDEX custom_values_person_field ON custom_values (company_id, person_id, field_key);
CREATE INDEX custom_values_key ON custom_values (company_id, external_key);

CREATE TABLE groups (
    company_id          uuid    NOT NULL,
    id                  uuid    NOT NULL,
    external_key        text    COLLATE "C" NOT NULL,
    owned               boolean NOT NULL,
    target_name         text    COLLATE "C" NOT NULL,
    target_key          text    COLLATE "C" NOT NULL,
    description         text    NOT NULL,
    status              text    NOT NULL,
    use_default_devices boolean NOT NULL,
    time_zone           text    NOT NULL,
    site_id             uuid,
    observed_by_all     boolean NOT NULL,
    observers           text[]  NOT NULL,
    allow_duplicates    boolean NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX groups_target_name ON groups (company_id, target_key);
CREATE INDEX groups_key ON groups (company_id, external_key);

CREATE TABLE group_supervisors (
    company_id    uuid    NOT NULL,
    group_id      uuid    NOT NULL,
    seq           integer NOT NULL,
    supervisor_id uuid    NOT NULL,
    PRIMARY KEY (company_id, group_id, seq),
    FOREIGN KEY (company_id, group_id) REFERENCES groups (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, supervisor_id) REFERENCES people (company_id, id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX group_supervisors_supervisor ON group_supervisors (company_id, supervisor_id);

CREATE TABLE shifts (
    company_id          uuid      NOT NULL,
    id                  uuid      NOT NULL,
    external_key        text      COLLATE "C" NOT NULL,
    owned               boolean   NOT NULL,
    group_id            uuid      NOT NULL,
    name                text      COLLATE "C" NOT NULL,
    name_key            text      COLLATE "C" NOT NULL,
    description         text      NOT NULL,
    use_default_devices boolean   NOT NULL,
    escalation          integer[] NOT NULL,
    round_robin         boolean   NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, group_id) REFERENCES groups (company_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX shifts_group_name ON shifts (company_id, group_id, name_key);
CREATE INDEX shifts_key ON shifts (company_id, external_key);

-- A member is a person, group, shift (TEAM) or device: no foreign key can
-- follow member_id, so the store deletes memberships of a removed object
-- itself.
CREATE TABLE members (
    company_id uuid    NOT NULL,
    shift_id   uuid    NOT NULL,
    type       text    NOT NULL,
    member_id  uuid    NOT NULL,
    sequence   integer NOT NULL,
    owned      boolean NOT NULL,
    FOREIGN KEY (company_id, shift_id) REFERENCES shifts (company_id, id) ON DELETE CASCADE
);
CREATE INDEX members_shift ON members (company_id, shift_id, sequence);
CREATE INDEX members_member ON members (company_id, member_id);

CREATE TABLE jobs (
    company_id     uuid        NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    name           text        NOT NULL,
    status         text        NOT NULL,
    by_user        text        NOT NULL,
    client_version text        NOT NULL,
    started        timestamptz NOT NULL,
    updated        timestamptz NOT NULL,
    finished       timestamptz,
    manifest       jsonb       NOT NULL,
    total          integer     NOT NULL,
    processed      integer     NOT NULL,
    superseded_by  uuid,
    summary        jsonb       NOT NULL,
    details        jsonb       NOT NULL,
    rows           bytea,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX jobs_started ON jobs (company_id, started DESC, id DESC);
CREATE INDEX jobs_queued ON jobs (company_id, started, id) WHERE status = 'QUEUED';

-- +goose Down
DROP TABLE jobs;
DROP TABLE members;
DROP TABLE shifts;
DROP TABLE group_supervisors;
DROP TABLE groups;
DROP TABLE custom_values;
DROP TABLE devices;
DROP TABLE person_supervisors;
DROP TABLE people;
DROP TABLE sites;
DROP TABLE companies;
