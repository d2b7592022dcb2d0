-- Per key, its open purchase order (open or overdue; at most one), as the flow left it.
-- Parameters: keys.
SELECT
    warehouse_id,
    sku,
    po_id,
    status,
    quantity,
    toUnixTimestamp64Milli(opened_at) AS opened_ms,
    toUnixTimestamp64Milli(expected_at) AS expected_ms,
    received_quantity,
    receipt_event_id,
    alert_id,
    version
FROM purchase_orders FINAL
WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
  AND status != 'received'
ORDER BY version
