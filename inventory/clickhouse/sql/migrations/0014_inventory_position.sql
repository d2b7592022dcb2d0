-- Contract v5 (issue 24): reorders on the inventory position, purchase orders that always
-- end, and one stock truth across stream and backfill. Existing rows are upgraded: every
-- new column has a default that reads old rows as they were meant, stock rows of keys
-- with open purchase orders get their on-order units, and `events` keeps one row per
-- event id.

-- The catalog's order rules (0 means the documented default: no minimum; 10 x target).
ALTER TABLE {database}.products
    ADD COLUMN IF NOT EXISTS case_pack UInt32 DEFAULT 1 AFTER lead_time_hours,
    ADD COLUMN IF NOT EXISTS min_order_quantity UInt64 DEFAULT 0 AFTER case_pack,
    ADD COLUMN IF NOT EXISTS max_order_quantity UInt64 DEFAULT 0 AFTER min_order_quantity,
    MODIFY COLUMN low_stock_threshold UInt32
        COMMENT 'the reorder point: low_stock at on-hand <= this; a request at position <= this',
    MODIFY COLUMN target_stock UInt32 COMMENT 'the order-up-to level of the inventory position';

-- What the open purchase orders still bring, and the position reorders follow.
ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS on_order Int64 DEFAULT 0
        COMMENT 'units the open purchase orders still bring (quantity - received - cancelled)',
    ADD COLUMN IF NOT EXISTS inventory_position Int64 DEFAULT on_hand + on_order
        COMMENT 'on_hand + on_order: what reorders follow';

-- A purchase order's whole life: partial receipts, cancellations, closing.
ALTER TABLE {database}.purchase_orders
    ADD COLUMN IF NOT EXISTS cancelled_quantity Int64 DEFAULT 0
        COMMENT 'units cancelled by cancel events' AFTER received_quantity,
    ADD COLUMN IF NOT EXISTS remaining Int64
        DEFAULT if(status IN ('open', 'partially_received', 'overdue'),
                   greatest(quantity - received_quantity - cancelled_quantity, 0), 0)
        COMMENT 'units still on order (0 once closed)' AFTER cancelled_quantity,
    ADD COLUMN IF NOT EXISTS closed_at Nullable(DateTime64(3, 'UTC'))
        DEFAULT if(status = 'received', received_at, NULL)
        COMMENT 'occurred_at of the event that closed it' AFTER remaining,
    MODIFY COLUMN status LowCardinality(String)
        COMMENT 'open, partially_received, overdue (on order); received, cancelled, expired, historical (closed)',
    MODIFY COLUMN received_at Nullable(DateTime64(3, 'UTC')) COMMENT 'occurred_at of the latest receipt',
    MODIFY COLUMN received_quantity Int64 COMMENT 'units received so far (an over-receipt exceeds quantity)',
    MODIFY COLUMN receipt_event_id String COMMENT 'the latest receiving restock';

ALTER TABLE {database}.alerts
    MODIFY COLUMN kind LowCardinality(String)
        COMMENT 'low_stock, out_of_stock, back_in_stock, reorder, reorder_overdue, reorder_expired',
    MODIFY COLUMN reorder_quantity Int64 COMMENT '> 0: a reorder request (it opened po_id)',
    MODIFY COLUMN po_id String DEFAULT ''
        COMMENT 'the PO a request opened, the oldest open one a low/out alert names, or the overdue/expired one';

-- Stock rows of keys with open purchase orders carry their on-order units (same version:
-- the later insert wins FINAL).
INSERT INTO {database}.stock_levels
    (warehouse_id, sku, on_hand, version, updated_at, last_event_id, lineage, reserved,
     available, on_order)
SELECT s.warehouse_id, s.sku, s.on_hand, s.version, s.updated_at, s.last_event_id, s.lineage,
       s.reserved, s.available, o.on_order
FROM {database}.stock_levels AS s FINAL
INNER JOIN
(
    SELECT warehouse_id, sku, sum(remaining) AS on_order
    FROM {database}.purchase_orders FINAL
    WHERE status IN ('open', 'partially_received', 'overdue')
    GROUP BY warehouse_id, sku
    HAVING on_order > 0
) AS o ON s.warehouse_id = o.warehouse_id AND s.sku = o.sku;

-- Every (event id, occurred_at) ever accepted: an id accepted with two event times (the
-- stream and a backfill of a re-stamped retry, say) is what the reconciliation flags.
CREATE TABLE IF NOT EXISTS {database}.event_acceptances
(
    warehouse_id  LowCardinality(String),
    sku           String,
    event_id      String,
    occurred_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (warehouse_id, sku, event_id, occurred_at);

INSERT INTO {database}.event_acceptances
SELECT warehouse_id, sku, event_id, occurred_at FROM {database}.events;

-- `events` keyed by event id: FINAL keeps one row per id whatever its occurred_at (a
-- producer retry that re-stamps time), the one with the earliest occurred_at. Without a
-- time partition, so copies in different months collapse too. The old table is copied,
-- swapped in atomically, and the ledger's view re-bound to it (a materialized view
-- follows the table it was created on, not its name).
DROP TABLE IF EXISTS {database}.events_v4;

CREATE TABLE IF NOT EXISTS {database}.events_v5
(
    event_id          String,
    event_type        LowCardinality(String),
    sku               String,
    warehouse_id      LowCardinality(String),
    quantity          Int64,
    delta             Int64 COMMENT 'signed stock effect; 0 for count (a count sets the level)',
    unit_price        Nullable(Float64),
    order_id          Nullable(String),
    occurred_at       DateTime64(3, 'UTC') COMMENT 'event time',
    ingested_at       DateTime64(3, 'UTC') COMMENT 'Kafka message timestamp',
    source_topic      LowCardinality(String) DEFAULT ''
        COMMENT 'Kafka topic (file:<name> for a file backfill)',
    source_topic_id   String DEFAULT ''
        COMMENT 'Kafka topic id: tells a re-created topic of the same name apart',
    source_partition  Int32 DEFAULT -1,
    source_offset     Int64 DEFAULT -1,
    reservation_id    Nullable(String)
        COMMENT 'the hold a reserve/release opens or closes, or a sale consumes',
    expires_at        Nullable(DateTime64(3, 'UTC'))
        COMMENT 'a reserve''s hold ends at this event time',
    po_id             Nullable(String)
        COMMENT 'the purchase order a restock receives or a cancel cancels',
    earliest          UInt64 DEFAULT 18446744073709551615 - toUInt64(toUnixTimestamp64Milli(occurred_at))
        COMMENT 'FINAL keeps the copy of an id with the earliest occurred_at'
)
ENGINE = ReplacingMergeTree(earliest)
ORDER BY (warehouse_id, sku, event_id);

INSERT INTO {database}.events_v5
    (event_id, event_type, sku, warehouse_id, quantity, delta, unit_price, order_id,
     occurred_at, ingested_at, source_topic, source_topic_id, source_partition,
     source_offset, reservation_id, expires_at, po_id)
SELECT event_id, event_type, sku, warehouse_id, quantity, delta, unit_price, order_id,
       occurred_at, ingested_at, source_topic, source_topic_id, source_partition,
       source_offset, reservation_id, expires_at, po_id
FROM {database}.events;

RENAME TABLE {database}.events TO {database}.events_v4, {database}.events_v5 TO {database}.events;

ALTER TABLE {database}.sales_ledger_mv MODIFY QUERY
SELECT
    event_id,
    warehouse_id,
    sku,
    quantity,
    toDecimal128(quantity, 4) * toDecimal128(round(ifNull(unit_price, 0) * 10000), 0) / 10000
        AS revenue,
    ifNull(order_id, concat('\0', event_id)) AS order_key,
    occurred_at
FROM {database}.events
WHERE event_type = 'sale'
  AND event_id NOT IN (
      SELECT event_id FROM {database}.sales_ledger
      WHERE event_id IN (SELECT event_id FROM {database}.events))
LIMIT 1 BY event_id;

-- Created on the re-keyed table (a view follows the table it was created on).
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.event_acceptances_mv
TO {database}.event_acceptances AS
SELECT warehouse_id, sku, event_id, occurred_at FROM {database}.events;

DROP TABLE IF EXISTS {database}.events_v4;

-- The reconciliation also flags ids accepted more than once (status repeated_event_id
-- when the stock agrees; the count is in repeated_event_ids).
DROP VIEW IF EXISTS {database}.stock_reconciliation;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.stock_reconciliation
REFRESH EVERY 1 DAY OFFSET 1 HOUR
(
    warehouse_id        String,
    sku                 String,
    batch_on_hand       Nullable(Int64) COMMENT 'recomputed from events (NULL: no events)',
    stream_on_hand      Nullable(Int64) COMMENT 'stock_levels FINAL (NULL: no row)',
    difference          Nullable(Int64) COMMENT 'stream - batch',
    repeated_event_ids  UInt64 COMMENT 'event ids of the key accepted with more than one occurred_at',
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
        SELECT warehouse_id, sku, count() AS ids
        FROM
        (
            SELECT warehouse_id, sku, event_id
            FROM {database}.event_acceptances FINAL
            GROUP BY warehouse_id, sku, event_id
            HAVING count() > 1
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

-- Current stock with what is on order and the position.
CREATE OR REPLACE VIEW {database}.current_stock AS
SELECT
    s.warehouse_id AS warehouse_id,
    s.sku AS sku,
    s.on_hand AS on_hand,
    s.reserved AS reserved,
    s.available AS available,
    s.on_order AS on_order,
    s.inventory_position AS inventory_position,
    coalesce(p.low_stock_threshold, 10) AS low_stock_threshold,
    coalesce(p.target_stock, 50) AS target_stock,
    multiIf(s.on_hand <= 0, 'out', s.on_hand <= low_stock_threshold, 'low', 'ok') AS status,
    s.updated_at AS updated_at,
    s.last_event_id AS last_event_id
FROM {database}.stock_levels AS s FINAL
LEFT JOIN
(
    SELECT sku, toNullable(low_stock_threshold) AS low_stock_threshold,
           toNullable(target_stock) AS target_stock
    FROM {database}.products FINAL
) AS p ON s.sku = p.sku;

CREATE OR REPLACE VIEW {database}.purchase_order_log AS
SELECT po_id, warehouse_id, sku, status, quantity, opened_at, expected_at, received_at,
       received_quantity, cancelled_quantity, remaining, closed_at, receipt_event_id,
       alert_id,
       if(received_at IS NULL, NULL,
          dateDiff('millisecond', opened_at, assumeNotNull(received_at)) / 3600000.0)
           AS lead_time_hours
FROM {database}.purchase_orders FINAL;

-- Purchase orders still on order; hours_late > 0 once past expected_at (the clock).
CREATE OR REPLACE VIEW {database}.open_purchase_orders AS
SELECT po_id, warehouse_id, sku, status, quantity, received_quantity, remaining, opened_at,
       expected_at, dateDiff('millisecond', expected_at, now64(3)) / 3600000.0 AS hours_late
FROM {database}.purchase_orders FINAL
WHERE status IN ('open', 'partially_received', 'overdue');

-- Re-created on the view above (a view's columns are fixed when it is created).
CREATE OR REPLACE VIEW {database}.overdue_purchase_orders AS
SELECT *
FROM {database}.open_purchase_orders
WHERE status = 'overdue' OR hours_late > 24;
