-- Closing the loop (issue 18, contract v4): purchase orders opened by reorder requests and
-- received by restocks, reservations (holds) that make "available" differ from on-hand.
-- Backward compatible: every new column has a default, and old rows read as before.

-- The fields of contract v4 events, as the flow accepted them.
ALTER TABLE {database}.events
    ADD COLUMN IF NOT EXISTS reservation_id Nullable(String)
        COMMENT 'the hold a reserve/release opens or closes, or a sale consumes',
    ADD COLUMN IF NOT EXISTS expires_at Nullable(DateTime64(3, 'UTC'))
        COMMENT 'a reserve''s hold ends at this event time',
    ADD COLUMN IF NOT EXISTS po_id Nullable(String)
        COMMENT 'the purchase order a restock receives';

-- Units held by active holds, and what a shopper can buy: available = on_hand - reserved.
ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS reserved Int64 DEFAULT 0
        COMMENT 'units of active holds as of updated_at (event time)',
    ADD COLUMN IF NOT EXISTS available Int64 DEFAULT on_hand - reserved
        COMMENT 'on_hand - reserved (may be negative: oversold or overheld)';

-- The new fields' dead-letter reason codes (docs/contracts.md), kept in step with
-- inventory/reasons.py like migration 0012's.
ALTER TABLE {database}.dead_letters
    MODIFY COLUMN reason LowCardinality(String) DEFAULT multiIf(
        startsWith(error, 'late:'), 'late',
        startsWith(error, 'rejected by ClickHouse'), 'rejected',
        startsWith(error, 'empty message'), 'empty',
        startsWith(error, 'message larger than'), 'too_large',
        startsWith(error, 'invalid JSON'), 'invalid_json',
        startsWith(error, 'event must be a JSON object'), 'not_object',
        startsWith(error, 'missing field'), 'missing_field',
        startsWith(error, 'event_id '), 'bad_event_id',
        startsWith(error, 'event_type '), 'bad_event_type',
        startsWith(error, 'sku '), 'bad_sku',
        startsWith(error, 'warehouse_id '), 'bad_warehouse_id',
        startsWith(error, 'quantity '), 'bad_quantity',
        startsWith(error, 'occurred_at is before'), 'absurd_time',
        startsWith(error, 'occurred_at is not before'), 'absurd_time',
        startsWith(error, 'occurred_at is too far after'), 'absurd_time',
        startsWith(error, 'occurred_at '), 'bad_occurred_at',
        startsWith(error, 'unit_price '), 'bad_unit_price',
        startsWith(error, 'order_id '), 'bad_order_id',
        startsWith(error, 'reservation_id '), 'bad_reservation_id',
        startsWith(error, 'expires_at '), 'bad_expires_at',
        startsWith(error, 'po_id '), 'bad_po_id',
        startsWith(error, 'undecodable event'), 'undecodable',
        'other')
    COMMENT 'stable reason code (docs/contracts.md); error holds the human reason';

-- The purchase order an alert opened, or the open one it did not re-request.
ALTER TABLE {database}.alerts
    ADD COLUMN IF NOT EXISTS po_id String DEFAULT ''
        COMMENT 'PO opened (reorder_quantity > 0) or already open; empty for back_in_stock',
    ADD COLUMN IF NOT EXISTS expected_at Nullable(DateTime64(3, 'UTC'))
        COMMENT 'when that PO is expected';

-- Supplier lead time per SKU; 0 means INVENTORY_DEFAULT_LEAD_TIME_HOURS.
ALTER TABLE {database}.products
    ADD COLUMN IF NOT EXISTS lead_time_hours Float64 DEFAULT 0 AFTER target_stock;

-- One row per purchase order state; the highest version (the key's stock version at the
-- change) wins FINAL: open, then overdue, then received.
CREATE TABLE IF NOT EXISTS {database}.purchase_orders
(
    po_id              String,
    warehouse_id       LowCardinality(String),
    sku                String,
    status             LowCardinality(String) COMMENT 'open, overdue, received',
    quantity           Int64 COMMENT 'ordered: the reorder request''s quantity',
    opened_at          DateTime64(3, 'UTC') COMMENT 'raised_at of the reorder request',
    expected_at        DateTime64(3, 'UTC') COMMENT 'opened_at + the SKU''s lead time',
    received_at        Nullable(DateTime64(3, 'UTC')) COMMENT 'occurred_at of the receipt',
    received_quantity  Int64 COMMENT 'the receiving restock''s quantity',
    receipt_event_id   String,
    alert_id           String COMMENT 'the alert whose reorder request opened it',
    version            UInt128
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (warehouse_id, sku, po_id);

-- Current stock with its policy, band, holds and what a shopper can buy.
CREATE OR REPLACE VIEW {database}.current_stock AS
SELECT
    s.warehouse_id AS warehouse_id,
    s.sku AS sku,
    s.on_hand AS on_hand,
    s.reserved AS reserved,
    s.available AS available,
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

CREATE OR REPLACE VIEW {database}.alert_log AS
SELECT alert_id, kind, warehouse_id, sku, on_hand, threshold, reorder_quantity, event_id,
       raised_at, po_id, expected_at
FROM {database}.alerts FINAL;

-- Every purchase order as it stands, with its lead time once received.
CREATE OR REPLACE VIEW {database}.purchase_order_log AS
SELECT po_id, warehouse_id, sku, status, quantity, opened_at, expected_at, received_at,
       received_quantity, receipt_event_id, alert_id,
       if(received_at IS NULL, NULL,
          dateDiff('millisecond', opened_at, assumeNotNull(received_at)) / 3600000.0)
           AS lead_time_hours
FROM {database}.purchase_orders FINAL;

-- Purchase orders not yet received; hours_late > 0 once past expected_at (the clock).
CREATE OR REPLACE VIEW {database}.open_purchase_orders AS
SELECT po_id, warehouse_id, sku, status, quantity, opened_at, expected_at,
       dateDiff('millisecond', expected_at, now64(3)) / 3600000.0 AS hours_late
FROM {database}.purchase_orders FINAL
WHERE status != 'received';

-- Open purchase orders the stream flagged overdue (its event time passed expected_at plus
-- INVENTORY_REORDER_GRACE_HOURS), or that the clock says are more than the default grace
-- of 24 hours late (a key that gets no events raises nothing in the stream).
CREATE OR REPLACE VIEW {database}.overdue_purchase_orders AS
SELECT *
FROM {database}.open_purchase_orders
WHERE status = 'overdue' OR hours_late > 24;

-- Supplier lead times per SKU, from the received purchase orders.
CREATE OR REPLACE VIEW {database}.supplier_lead_times AS
SELECT
    sku,
    count() AS received_orders,
    avg(lead_time_hours) AS avg_lead_time_hours,
    quantileExact(0.5)(lead_time_hours) AS median_lead_time_hours,
    max(lead_time_hours) AS max_lead_time_hours,
    countIf(received_at <= expected_at) / count() AS on_time_share,
    sum(received_quantity) AS received_units
FROM {database}.purchase_order_log
WHERE status = 'received'
GROUP BY sku;
