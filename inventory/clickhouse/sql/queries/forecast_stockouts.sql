-- Minutes out of stock per key and day in [since, through] (inventory forecast).
SELECT warehouse_id, sku, day, toInt64(max(stockout_minutes)) AS minutes
FROM stockout_daily
WHERE day BETWEEN {since:Date} AND {through:Date}
GROUP BY warehouse_id, sku, day
