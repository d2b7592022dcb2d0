-- Minutes out of stock per key and day in [since, through] (inventory forecast). A day
-- the flow closed (demand_daily, v12) counts only when more than 18 hours of it were out
-- of stock: its demand then rests on the flow's mean rather than on its own sales
-- (docs/semantics.md, "Unconstrained demand"); any other day counts its minutes from
-- stockout_daily.
SELECT warehouse_id, sku, day, argMax(minutes, flow) AS minutes
FROM (
    SELECT warehouse_id, sku, day, toInt64(max(stockout_minutes)) AS minutes, 0 AS flow
    FROM stockout_daily
    WHERE day BETWEEN {since:Date} AND {through:Date}
    GROUP BY warehouse_id, sku, day
    UNION ALL
    SELECT warehouse_id, sku, day,
           if(out_of_stock_ms * 4 > 3 * 86400000, intDiv(out_of_stock_ms, 60000), 0) AS minutes,
           1 AS flow
    FROM demand_daily FINAL
    WHERE day BETWEEN {since:Date} AND {through:Date}
)
GROUP BY warehouse_id, sku, day
