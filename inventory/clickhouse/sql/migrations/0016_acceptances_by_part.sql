-- Contract v8 (issue 33): exact whatever the restarts. The stream forgets an id by event
-- time only, so a producer retry re-stamped past the lateness horizon of its accepted copy
-- is accepted again (docs/semantics.md, "Lateness horizon and dedup"). A key's state
-- rebuilt from the tables (a seed, a --force fold) must count that copy as the stream
-- did, but not a copy only a partial backfill accepted: every acceptance now records who
-- accepted it, and `accepted_events` gives, per key, each event once per counted copy.
-- Backward compatible: old rows read as the stream's.

ALTER TABLE {database}.events
    ADD COLUMN IF NOT EXISTS accepted_by LowCardinality(String) DEFAULT ''
        COMMENT 'who accepted this copy: empty for the stream, the lineage of a backfill';

-- Every (event id, event time, who accepted it): a new order key, so the stream's and a
-- backfill's acceptance of the same copy are two rows.
DROP TABLE IF EXISTS {database}.event_acceptances_v8;

CREATE TABLE IF NOT EXISTS {database}.event_acceptances_v8
(
    warehouse_id  LowCardinality(String),
    sku           String,
    event_id      String,
    occurred_at   DateTime64(3, 'UTC'),
    accepted_by   LowCardinality(String) DEFAULT ''
        COMMENT 'empty: the stream (any flow or run lineage); else a backfill''s lineage',
    source_topic      LowCardinality(String) DEFAULT '' COMMENT 'the copy''s message, as in events',
    source_topic_id   String DEFAULT '',
    source_partition  Int32 DEFAULT -1,
    source_offset     Int64 DEFAULT -1,
    expires_at        Nullable(DateTime64(3, 'UTC'))
        COMMENT 'a reserve copy''s own expires_at (a retry re-stamps it with occurred_at)'
)
ENGINE = ReplacingMergeTree
ORDER BY (warehouse_id, sku, event_id, occurred_at, accepted_by);

INSERT INTO {database}.event_acceptances_v8
    (warehouse_id, sku, event_id, occurred_at, source_topic, source_topic_id,
     source_partition, source_offset, expires_at)
SELECT a.warehouse_id, a.sku, a.event_id, a.occurred_at, e.source_topic, e.source_topic_id,
       e.source_partition, e.source_offset, e.expires_at
FROM {database}.event_acceptances AS a
LEFT JOIN {database}.events AS e
    ON a.warehouse_id = e.warehouse_id AND a.sku = e.sku AND a.event_id = e.event_id
   AND a.occurred_at = e.occurred_at
SETTINGS join_use_nulls = 1;

DROP VIEW IF EXISTS {database}.event_acceptances_mv;

EXCHANGE TABLES {database}.event_acceptances AND {database}.event_acceptances_v8;

DROP TABLE IF EXISTS {database}.event_acceptances_v8;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.event_acceptances_mv
TO {database}.event_acceptances AS
SELECT warehouse_id, sku, event_id, occurred_at, accepted_by,
       source_topic, source_topic_id, source_partition, source_offset, expires_at
FROM {database}.events;

-- Per key of `keys`, every accepted event once per counted copy: the copies of the part
-- (the stream, or one backfill lineage) that accepted the id most often (ties: the
-- stream, then the greatest lineage), each with its own `occurred_at` and `expires_at` and
-- the id's other fields from `events FINAL`. Without repeated ids this is `events FINAL`.
CREATE VIEW IF NOT EXISTS {database}.accepted_events AS
WITH copies AS (
    SELECT warehouse_id, sku, event_id, times
    FROM
    (
        SELECT
            warehouse_id,
            sku,
            event_id,
            accepted_by AS part,
            groupArray((occurred_at, expires_at)) AS times
        FROM {database}.event_acceptances FINAL
        WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
        GROUP BY warehouse_id, sku, event_id, part
    )
    ORDER BY length(times) DESC, part = '' DESC, part DESC
    LIMIT 1 BY warehouse_id, sku, event_id
)
SELECT
    e.event_id AS event_id,
    e.event_type AS event_type,
    e.sku AS sku,
    e.warehouse_id AS warehouse_id,
    e.quantity AS quantity,
    e.delta AS delta,
    e.unit_price AS unit_price,
    e.order_id AS order_id,
    copy.1 AS occurred_at,
    e.reservation_id AS reservation_id,
    coalesce(copy.2, e.expires_at) AS expires_at,
    e.po_id AS po_id
FROM {database}.events AS e FINAL
INNER JOIN copies AS c
    ON e.warehouse_id = c.warehouse_id AND e.sku = c.sku AND e.event_id = c.event_id
ARRAY JOIN c.times AS copy
WHERE (e.warehouse_id, e.sku) IN {keys:Array(Tuple(String, String))};

-- Which reorder point a request was made at (the catalog's threshold for a static SKU,
-- the computed one for a demand SKU); `threshold` is the catalog's band threshold.
ALTER TABLE {database}.alerts
    ADD COLUMN IF NOT EXISTS reorder_point Int64 DEFAULT -1
        COMMENT 'the reorder point a request was made at (reorder_quantity > 0); -1: no request',
    MODIFY COLUMN threshold Int64 COMMENT 'the catalog low_stock_threshold (the band)';

-- The reconciliation: an id is repeated when accepted with two event times (the stream's
-- and a backfill's acceptance of one copy are one time); `repeated_ids` names them.
DROP VIEW IF EXISTS {database}.stock_reconciliation;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.stock_reconciliation
REFRESH EVERY 1 DAY OFFSET 1 HOUR
(
    warehouse_id        String,
    sku                 String,
    batch_on_hand       Nullable(Int64) COMMENT 'recomputed from events (NULL: no events)',
    stream_on_hand      Nullable(Int64) COMMENT 'stock_levels FINAL (NULL: no row)',
    difference          Nullable(Int64) COMMENT 'stream - batch',
    repeated_event_ids  UInt64 COMMENT 'how many event ids of the key were accepted with more than one occurred_at',
    repeated_ids        Array(String) COMMENT 'those ids, sorted',
    status              LowCardinality(String)
        COMMENT 'ok, mismatch, missing_in_stream, missing_in_batch, repeated_event_id',
    checked_at          DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (status, warehouse_id, sku)
AS
WITH
    batch AS (
        SELECT
            e.warehouse_id AS warehouse_id,
            e.sku AS sku,
            ifNull(any(c.count_qty), 0)
                + sumIf(e.delta, e.event_type != 'count'
                                 AND ifNull(e.occurred_at > c.count_at, true))
                AS on_hand
        FROM {database}.events AS e FINAL
        LEFT JOIN
        (
            SELECT
                warehouse_id,
                sku,
                argMax(quantity, (occurred_at, event_id)) AS count_qty,
                max(occurred_at) AS count_at
            FROM {database}.events FINAL
            WHERE event_type = 'count'
            GROUP BY warehouse_id, sku
        ) AS c ON e.warehouse_id = c.warehouse_id AND e.sku = c.sku
        GROUP BY e.warehouse_id, e.sku
    ),
    stream AS (
        SELECT warehouse_id, sku, on_hand FROM {database}.stock_levels FINAL
    ),
    repeats AS (
        SELECT warehouse_id, sku, count() AS ids, arraySort(groupArray(event_id)) AS which
        FROM
        (
            SELECT warehouse_id, sku, event_id
            FROM {database}.event_acceptances FINAL
            GROUP BY warehouse_id, sku, event_id
            HAVING uniqExact(occurred_at) > 1
        )
        GROUP BY warehouse_id, sku
    )
SELECT
    if(b.warehouse_id != '', b.warehouse_id, s.warehouse_id) AS warehouse_id,
    if(b.sku != '', b.sku, s.sku) AS sku,
    b.on_hand AS batch_on_hand,
    s.on_hand AS stream_on_hand,
    s.on_hand - b.on_hand AS difference,
    ifNull(r.ids, 0) AS repeated_event_ids,
    r.which AS repeated_ids,
    multiIf(
        b.on_hand IS NULL, 'missing_in_batch',
        s.on_hand IS NULL, 'missing_in_stream',
        s.on_hand != b.on_hand, 'mismatch',
        ifNull(r.ids, 0) > 0, 'repeated_event_id',
        'ok'
    ) AS status,
    now64(3, 'UTC') AS checked_at
FROM batch AS b
FULL OUTER JOIN stream AS s ON b.warehouse_id = s.warehouse_id AND b.sku = s.sku
LEFT JOIN repeats AS r
    ON r.warehouse_id = if(b.warehouse_id != '', b.warehouse_id, s.warehouse_id)
   AND r.sku = if(b.sku != '', b.sku, s.sku)
SETTINGS join_use_nulls = 1;
