-- The job queue (processing.md §1): the archive of every job that waits
-- for a batch run, stored in the database so that it is committed with
-- its QUEUED job in one transaction, and every epicd instance on the
-- database sees it. A batch run deletes an archive when its job ends (HELD
-- jobs keep theirs: approve applies them as they are).

-- +goose Up
CREATE TABLE archives (
    company_id uuid  NOT NULL,
    job_id     uuid  NOT NULL,
    data       bytea NOT NULL, -- the zip as uploaded
    PRIMARY KEY (company_id, job_id),
    FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id) ON DELETE CASCADE
);
-- A zip is compressed already: do not try again (EXTERNAL: out of line,
-- uncompressed).
ALTER TABLE archives ALTER COLUMN data SET STORAGE EXTERNAL;

-- The jobs a batch run looks for: QUEUED, and PROCESSING ones left by a
-- run that died.
CREATE INDEX jobs_pending ON jobs (company_id, started, id) WHERE status IN ('QUEUED', 'PROCESSING');

-- +goose Down
DROP INDEX jobs_pending;
DROP TABLE archives;
