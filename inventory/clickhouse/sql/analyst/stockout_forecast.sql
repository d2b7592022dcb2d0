-- Forecast of the stockout date: at the 7-day average daily sales, when will each item
-- run out? Soonest first. Columns: warehouse_id, sku, on_hand, avg_daily_sales_7d,
-- days_of_cover, stockout_date
SELECT
    warehouse_id,
    sku,
    on_hand,
    round(avg_daily_sales_7d, 2) AS avg_daily_sales_7d,
    round(days_of_cover, 1) AS days_of_cover,
    as_of + toIntervalDay(toInt64(floor(days_of_cover))) AS stockout_date
FROM product_trends
WHERE on_hand > 0 AND avg_daily_sales_7d > 0
ORDER BY days_of_cover, warehouse_id, sku
LIMIT 20
