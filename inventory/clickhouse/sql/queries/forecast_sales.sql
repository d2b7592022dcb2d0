-- Units sold per key and day in [since, through] (inventory forecast).
SELECT warehouse_id, sku, day, toInt64(sum(units_sold)) AS units
FROM sales_daily
WHERE day BETWEEN {since:Date} AND {through:Date}
GROUP BY warehouse_id, sku, day
ORDER BY warehouse_id, sku, day
