-- Per key, its open purchase orders (open, partially_received, overdue), oldest first,
-- as the flow left them; historical ones (a backfill's) are never open.
-- Parameters: keys.
SELECT
    warehouse_id,
    sku,
    po_id,
    status,
    quantity,
    toUnixTimestamp64Milli(opened_at) AS opened_ms,
    toUnixTimestamp64Milli(expected_at) AS expected_ms,
    ifNull(toUnixTimestamp64Milli(received_at), -1) AS received_ms,
    received_quantity,
    receipt_event_id,
    alert_id,
    version,
    cancelled_quantity
FROM purchase_orders FINAL
WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
  AND status IN ('open', 'partially_received', 'overdue')
ORDER BY warehouse_id, sku, opened_at, po_id
