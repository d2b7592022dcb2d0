-- Per key, its purchase orders received in full, in the order the flow received them
-- (the key's stock version at the receipt): each one is a lead time learned.
-- Parameters: keys Array(Tuple(warehouse_id, sku)).
SELECT
    warehouse_id,
    sku,
    toUnixTimestamp64Milli(opened_at) AS opened_ms,
    toUnixTimestamp64Milli(assumeNotNull(received_at)) AS received_ms
FROM purchase_orders FINAL
WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
  AND status = 'received'
ORDER BY warehouse_id, sku, version
