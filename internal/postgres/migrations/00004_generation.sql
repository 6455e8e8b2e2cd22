-- A company's generation: raised by one in the transaction of every
-- directory Update, so that the API's page totals, counted once, stay
-- exact until the next change (directory.Totals), across every epicd
-- on this database.

-- +goose Up
ALTER TABLE companies ADD COLUMN generation bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE companies DROP COLUMN generation;
