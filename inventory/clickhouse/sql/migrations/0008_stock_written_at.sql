-- When ClickHouse stored each stock_levels row (issue 9): lets a reader follow stock
-- changes incrementally (the availability API reads rows with written_at >= its previous
-- read minus a slack, instead of the whole table every second).
-- It is ClickHouse's insert time, the one value not derived from the input: a replayed
-- row gets a new one. So it is MATERIALIZED: stored, never inserted by writers, and not
-- part of SELECT * (a replayed table reads the same); name it to read it.
-- Answers never depend on it; FINAL still picks the highest version.
ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS written_at DateTime64(3, 'UTC') MATERIALIZED now64(3)
    COMMENT 'insert time (ClickHouse clock), for incremental readers';
