-- Batch layer (issue 5): daily stock reconciliation, batch vs stream.
--
-- Recomputes on-hand from the full history in `events` with the stream's rule (the latest
-- count by occurred_at then event_id, plus the deltas strictly after it; see
-- docs/semantics.md) and compares it with the streamed `stock_levels`. Any row whose
-- status is not 'ok' is a discrepancy to investigate. Refreshed daily at 01:00 UTC;
-- `SYSTEM REFRESH VIEW inventory.stock_reconciliation` runs it now.

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.stock_reconciliation
REFRESH EVERY 1 DAY OFFSET 1 HOUR
(
    warehouse_id     String,
    sku              String,
    batch_on_hand    Nullable(Int64) COMMENT 'recomputed from events (NULL: no events)',
    stream_on_hand   Nullable(Int64) COMMENT 'stock_levels FINAL (NULL: no row)',
    difference       Nullable(Int64) COMMENT 'stream - batch',
    status           LowCardinality(String) COMMENT 'ok, mismatch, missing_in_stream, missing_in_batch',
    checked_at       DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (status, warehouse_id, sku)
AS
WITH
    batch AS (
        SELECT
            e.warehouse_id AS warehouse_id,
            e.sku AS sku,
            any(c.count_qty)
                + sumIf(e.delta, e.event_type != 'count' AND e.occurred_at > c.count_at)
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
    )
SELECT
    if(b.warehouse_id != '', b.warehouse_id, s.warehouse_id) AS warehouse_id,
    if(b.sku != '', b.sku, s.sku) AS sku,
    b.on_hand AS batch_on_hand,
    s.on_hand AS stream_on_hand,
    s.on_hand - b.on_hand AS difference,
    multiIf(
        b.on_hand IS NULL, 'missing_in_batch',
        s.on_hand IS NULL, 'missing_in_stream',
        s.on_hand = b.on_hand, 'ok',
        'mismatch'
    ) AS status,
    now64(3, 'UTC') AS checked_at
FROM batch AS b
FULL OUTER JOIN stream AS s ON b.warehouse_id = s.warehouse_id AND b.sku = s.sku
SETTINGS join_use_nulls = 1;
