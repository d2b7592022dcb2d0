-- Contract v9 (issue 32): no oversell. The flow decides every hold request, checkout and
-- release per key (docs/semantics.md, "Decided holds") and records each decision; a sale
-- that takes available below 0 (a fact from another system) records its oversold units.
-- Backward compatible: old rows read oversold 0; a decided request is recorded in `events`
-- as the fact it decided (reserve, sale, release) or, refused, as itself with delta 0.

ALTER TABLE {database}.events
    ADD COLUMN IF NOT EXISTS oversold UInt32 DEFAULT 0
        COMMENT 'a sale: its units beyond what was available when the flow applied it';

ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS oversold UInt64 DEFAULT 0
        COMMENT 'units the key has sold beyond what was available, ever (sum of events.oversold)';

CREATE TABLE IF NOT EXISTS {database}.hold_decisions
(
    reservation_id  String,
    warehouse_id    LowCardinality(String),
    sku             String,
    event_id        String COMMENT 'the request''s; an expiry: the event whose time passed expires_at',
    request         LowCardinality(String)
        COMMENT 'hold_request, hold_checkout or hold_release; empty for an expiry',
    decision        LowCardinality(String)
        COMMENT 'granted, refused, checked_out, released, expired',
    reason          LowCardinality(String)
        COMMENT 'a refusal: insufficient, unknown, closed, expired, late; else empty',
    quantity        Int64 COMMENT 'units held, checked out, released or expired; refused: asked',
    available       Int64 COMMENT 'the key''s on_hand - reserved after the decision',
    expires_at      Nullable(DateTime64(3, 'UTC')) COMMENT 'the hold''s (a refused request: its own)',
    decided_at      DateTime64(3, 'UTC')
        COMMENT 'the request''s occurred_at as recorded; an expiry: the key''s newest event time',
    version         UInt128
        COMMENT 'the key''s stock version after the decision (a re-accepted copy: a decision of its own)'
)
ENGINE = ReplacingMergeTree
ORDER BY (warehouse_id, sku, reservation_id, event_id, decision, reason, decided_at, version);

-- Each accepted copy keeps what it became: two copies of one request (a retry re-stamped
-- past the horizon) may be decided differently, and `events FINAL` keeps one row per id.
-- Rows before v9 have event_type '' (read: the event's own, from `events`).
ALTER TABLE {database}.event_acceptances
    ADD COLUMN IF NOT EXISTS event_type LowCardinality(String) DEFAULT ''
        COMMENT 'v9: this copy''s type as applied (a decided request: its fact); empty before v9',
    ADD COLUMN IF NOT EXISTS quantity Nullable(Int64) COMMENT 'v9: this copy''s quantity as applied',
    ADD COLUMN IF NOT EXISTS delta Nullable(Int64) COMMENT 'v9: this copy''s delta as applied',
    ADD COLUMN IF NOT EXISTS oversold UInt32 DEFAULT 0 COMMENT 'v9: this copy''s oversold units';

DROP VIEW IF EXISTS {database}.event_acceptances_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.event_acceptances_mv
TO {database}.event_acceptances AS
SELECT warehouse_id, sku, event_id, occurred_at, accepted_by,
       source_topic, source_topic_id, source_partition, source_offset, expires_at,
       event_type, quantity, delta, oversold
FROM {database}.events;

-- accepted_events takes each copy's own type, quantity, delta and oversold units (seeds
-- rebuild stock_levels.oversold from it).
DROP VIEW IF EXISTS {database}.accepted_events;

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
            groupArray((occurred_at, expires_at, event_type, quantity, delta, oversold)) AS times
        FROM {database}.event_acceptances FINAL
        WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
        GROUP BY warehouse_id, sku, event_id, part
    )
    ORDER BY length(times) DESC, part = '' DESC, part DESC
    LIMIT 1 BY warehouse_id, sku, event_id
)
SELECT
    e.event_id AS event_id,
    if(copy.3 = '', e.event_type, copy.3) AS event_type,
    e.sku AS sku,
    e.warehouse_id AS warehouse_id,
    if(copy.3 = '', e.quantity, assumeNotNull(copy.4)) AS quantity,
    if(copy.3 = '', e.delta, assumeNotNull(copy.5)) AS delta,
    e.unit_price AS unit_price,
    e.order_id AS order_id,
    copy.1 AS occurred_at,
    e.reservation_id AS reservation_id,
    coalesce(copy.2, e.expires_at) AS expires_at,
    e.po_id AS po_id,
    if(copy.3 = '', e.oversold, copy.6) AS oversold
FROM {database}.events AS e FINAL
INNER JOIN copies AS c
    ON e.warehouse_id = c.warehouse_id AND e.sku = c.sku AND e.event_id = c.event_id
ARRAY JOIN c.times AS copy
WHERE (e.warehouse_id, e.sku) IN {keys:Array(Tuple(String, String))};
