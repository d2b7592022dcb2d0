-- Demand per key and day in [since, through] (inventory forecast): the flow's
-- unconstrained demand of the days it closed (demand_daily, v12), else the units sold
-- (sales_daily: days before v12, or not closed yet).
SELECT warehouse_id, sku, day, argMax(units, flow) AS units
FROM (
    SELECT warehouse_id, sku, day, toFloat64(sum(units_sold)) AS units, 0 AS flow
    FROM sales_daily
    WHERE day BETWEEN {since:Date} AND {through:Date}
    GROUP BY warehouse_id, sku, day
    UNION ALL
    SELECT warehouse_id, sku, day, demand AS units, 1 AS flow
    FROM demand_daily FINAL
    WHERE day BETWEEN {since:Date} AND {through:Date}
)
GROUP BY warehouse_id, sku, day
ORDER BY warehouse_id, sku, day
