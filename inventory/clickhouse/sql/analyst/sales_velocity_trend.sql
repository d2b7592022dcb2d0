-- Sales velocity trend: units per day per SKU (all warehouses) with a 7-day moving
-- average. Columns: sku, day, units, moving_avg_7d
SELECT
    sku,
    day,
    units,
    avg(units) OVER (PARTITION BY sku ORDER BY day
                     ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS moving_avg_7d
FROM
(
    SELECT sku, day, sum(units_sold) AS units
    FROM sales_daily
    GROUP BY sku, day
)
ORDER BY sku, day
