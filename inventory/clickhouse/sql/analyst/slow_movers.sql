-- Slow movers: items with stock on hand that sold at most 1 unit a week over 28 days,
-- most capital tied up first. Columns: warehouse_id, sku, on_hand, units_28d, abc_class
SELECT warehouse_id, sku, on_hand, units_28d, abc_class
FROM product_trends
WHERE on_hand > 0 AND units_28d <= 4
ORDER BY on_hand DESC, warehouse_id, sku
LIMIT 20
