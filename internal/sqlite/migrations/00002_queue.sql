-- The job queue (processing.md §1): the archive of every job that waits
-- for a batch run, stored in the database so that it is committed with
-- its QUEUED job in one transaction. A batch run deletes an archive when
-- its job ends (HELD jobs keep theirs: approve applies them as they are).

-- +goose Up
CREATE TABLE archives (
	job_id     BLOB NOT NULL PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
	company_id BLOB NOT NULL REFERENCES companies (id),
	data       BLOB NOT NULL -- the zip as uploaded
) STRICT;
CREATE INDEX archives_company ON archives (company_id);

-- The jobs a batch run looks for: QUEUED, and PROCESSING ones left by a
-- run that died.
CREATE INDEX jobs_pending ON jobs (company_id, started, id) WHERE status IN ('QUEUED', 'PROCESSING');

-- +goose Down
DROP INDEX jobs_pending;
DROP TABLE archives;
