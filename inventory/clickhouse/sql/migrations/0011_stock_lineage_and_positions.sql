-- Operational exactness (issue 14): current stock never goes back in time, and the flow's
-- per-key state can be rebuilt exactly from these tables (docs/semantics.md, "Versions,
-- lineage and seeds").

-- stock_levels.version was the number of events a run had applied to the key, so a
-- backfill of older history, or a run that started over, won FINAL with a bigger count
-- computed from other (older, fewer) events. It is now
--     newest event time (ms since the epoch) * 2^64 + accepted events of the key,
-- so the state that includes the newest event wins, and among states with the same newest
-- event the one computed from more events.
ALTER TABLE {database}.stock_levels
    MODIFY COLUMN version UInt128
    COMMENT 'newest event time (epoch ms) * 2^64 + accepted events applied';

-- Who computed the row: the dataflow's lineage (one per recovery store), or a backfill run.
-- A flow seeds its state for keys whose newest row is not its own (docs/semantics.md).
ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS lineage LowCardinality(String) DEFAULT ''
    COMMENT 'flow:<id> (the dataflow with that recovery store) or backfill:<id>';

-- Existing rows: each key's stock is recomputed from its accepted events with the stream's
-- rule (the latest count by occurred_at then event_id, plus the deltas strictly after it)
-- and written under the new version scheme, so it wins FINAL over every older row. This
-- also repairs keys where the old counter let a backfill of older history win (merges may
-- already have dropped the right row, so it is rebuilt, not picked). Keys with stock rows
-- but no events keep their newest row.
INSERT INTO {database}.stock_levels
    (warehouse_id, sku, on_hand, version, updated_at, last_event_id, lineage)
WITH counts AS (
    SELECT
        warehouse_id,
        sku,
        max(occurred_at) AS count_at,
        argMax(quantity, (occurred_at, event_id)) AS count_qty
    FROM {database}.events FINAL
    WHERE event_type = 'count'
    GROUP BY warehouse_id, sku
)
SELECT
    e.warehouse_id,
    e.sku,
    ifNull(any(c.count_qty), 0)
        + sumIf(e.delta, e.event_type != 'count' AND ifNull(e.occurred_at > c.count_at, true)),
    bitShiftLeft(toUInt128(toUnixTimestamp64Milli(max(e.occurred_at))), 64) + count(),
    max(e.occurred_at),
    argMax(e.event_id, (e.occurred_at, e.event_id)),
    ''
FROM {database}.events AS e FINAL
LEFT JOIN counts AS c ON e.warehouse_id = c.warehouse_id AND e.sku = c.sku
GROUP BY e.warehouse_id, e.sku
SETTINGS join_use_nulls = 1;

INSERT INTO {database}.stock_levels
    (warehouse_id, sku, on_hand, version, updated_at, last_event_id, lineage)
SELECT
    warehouse_id,
    sku,
    argMax(on_hand, (updated_at, version)),
    bitShiftLeft(toUInt128(toUnixTimestamp64Milli(max(updated_at))), 64)
        + (argMax(version, (updated_at, version)) % bitShiftLeft(toUInt128(1), 64)),
    max(updated_at),
    argMax(last_event_id, (updated_at, version)),
    ''
FROM {database}.stock_levels
WHERE (warehouse_id, sku) NOT IN (SELECT DISTINCT warehouse_id, sku FROM {database}.events)
GROUP BY warehouse_id, sku;

-- Where each accepted event came from: the flow skips messages it already applied when it
-- rebuilds a key's state from the tables. Rows written before this migration have -1.
ALTER TABLE {database}.events
    ADD COLUMN IF NOT EXISTS source_topic LowCardinality(String) DEFAULT ''
        COMMENT 'Kafka topic (file:<name> for a file backfill)',
    ADD COLUMN IF NOT EXISTS source_topic_id String DEFAULT ''
        COMMENT 'Kafka topic id: tells a re-created topic of the same name apart',
    ADD COLUMN IF NOT EXISTS source_partition Int32 DEFAULT -1,
    ADD COLUMN IF NOT EXISTS source_offset Int64 DEFAULT -1;

-- A re-created topic (a new broker, a deleted topic) starts its offsets at 0 again: its
-- dead letters must not replace the old topic's at the same position.
ALTER TABLE {database}.dead_letters
    ADD COLUMN IF NOT EXISTS topic_id String AFTER topic,
    MODIFY ORDER BY (topic, partition, offset, topic_id);
