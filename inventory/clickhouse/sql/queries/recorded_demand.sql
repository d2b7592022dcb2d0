-- Accepted sales per (warehouse, sku) in time order, each event id once (inventory backtest).
SELECT warehouse_id, sku, toUnixTimestamp64Milli(occurred_at) AS ms, quantity
FROM {db:Identifier}.events FINAL
WHERE event_type = 'sale'
  AND occurred_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  AND occurred_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
ORDER BY warehouse_id, sku, ms, event_id
