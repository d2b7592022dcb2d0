-- Top sellers: the 10 (warehouse, sku) with most units sold over the last 7 days of data.
-- Columns: warehouse_id, sku, units, revenue, orders
SELECT
    warehouse_id,
    sku,
    sum(units_sold) AS units,
    sum(revenue) AS revenue,
    uniqExactMerge(orders) AS orders
FROM sales_daily
WHERE day > (SELECT max(day) FROM sales_daily) - 7
GROUP BY warehouse_id, sku
ORDER BY units DESC, revenue DESC, warehouse_id, sku
LIMIT 10
