-- Fix (issue 14): stock_reconciliation flagged every key without a count as
-- 'missing_in_batch'. The query runs with join_use_nulls = 1 (for its FULL OUTER JOIN),
-- which also made the inner LEFT JOIN's count NULL for such keys, and NULL + deltas is
-- NULL. Now a key without a count starts at 0 and every movement counts, as in the stream.
-- Found by tests/test_boundaries.py; the view's columns and schedule are unchanged.

ALTER TABLE {database}.stock_reconciliation MODIFY QUERY
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
