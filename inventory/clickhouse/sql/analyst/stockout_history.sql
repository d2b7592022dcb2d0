-- Stockout history: every out_of_stock alert and when the item was next back above its
-- threshold (NULL: not yet). Columns: warehouse_id, sku, out_at, back_at, minutes_out
SELECT
    o.warehouse_id,
    o.sku,
    o.raised_at AS out_at,
    nullIf(min(b.raised_at), toDateTime64(0, 3, 'UTC')) AS back_at,
    if(back_at IS NULL, NULL, dateDiff('minute', out_at, back_at)) AS minutes_out
FROM (SELECT * FROM alerts FINAL WHERE kind = 'out_of_stock') AS o
LEFT JOIN (SELECT * FROM alerts FINAL WHERE kind = 'back_in_stock') AS b
    ON b.warehouse_id = o.warehouse_id AND b.sku = o.sku AND b.raised_at >= o.raised_at
GROUP BY o.warehouse_id, o.sku, o.raised_at
ORDER BY out_at DESC, warehouse_id, sku
