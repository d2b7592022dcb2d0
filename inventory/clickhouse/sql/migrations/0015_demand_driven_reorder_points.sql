-- Contract v6 (issue 25): reorder points from live demand. A SKU's policy is `static` (the
-- catalog's threshold and target, as before) or `demand` (computed from its daily demand
-- and learned lead times; docs/semantics.md, "Reorder points from live demand").
-- Backward compatible: new columns have defaults that read old rows as static ones.

ALTER TABLE {database}.products
    ADD COLUMN IF NOT EXISTS replenishment_policy LowCardinality(String) DEFAULT 'static'
        COMMENT 'static (threshold and target) or demand (computed reorder points)'
        AFTER max_order_quantity,
    ADD COLUMN IF NOT EXISTS service_level Float64 DEFAULT 0
        COMMENT 'cycle service level of a demand SKU; 0: INVENTORY_DEFAULT_SERVICE_LEVEL'
        AFTER replenishment_policy,
    ADD COLUMN IF NOT EXISTS review_period_days Float64 DEFAULT 0
        COMMENT 'order-up-to = reorder point + this many days of demand; 0: the default'
        AFTER service_level,
    ADD COLUMN IF NOT EXISTS order_cost Float64 DEFAULT 0
        COMMENT 'cost of one order; with holding_cost, the order-up-to level is EOQ-based'
        AFTER review_period_days,
    ADD COLUMN IF NOT EXISTS holding_cost Float64 DEFAULT 0
        COMMENT 'cost of holding one unit a year' AFTER order_cost,
    ADD COLUMN IF NOT EXISTS supplier String DEFAULT '' COMMENT 'who delivers it' AFTER holding_cost;

-- What reorders follow, and what shoppers and planners are told about incoming stock.
ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS next_expected_at Nullable(DateTime64(3, 'UTC'))
        COMMENT 'the earliest expected_at of the open purchase orders',
    ADD COLUMN IF NOT EXISTS reorder_point Int64 DEFAULT -1
        COMMENT 'in effect for requests; -1 (rows before v6): the catalog''s threshold',
    ADD COLUMN IF NOT EXISTS order_up_to Int64 DEFAULT -1
        COMMENT 'in effect for requests; -1 (rows before v6): the catalog''s target',
    ADD COLUMN IF NOT EXISTS reorder_basis LowCardinality(String) DEFAULT 'static'
        COMMENT 'static, cold_start (demand SKU without enough history) or demand',
    ADD COLUMN IF NOT EXISTS demand_per_day Float64 DEFAULT 0
        COMMENT 'exponentially weighted daily demand (units) of the closed days',
    ADD COLUMN IF NOT EXISTS lead_time_days Float64 DEFAULT 0 COMMENT 'in effect',
    ADD COLUMN IF NOT EXISTS days_of_cover Nullable(Float64)
        COMMENT 'on_hand / demand_per_day (NULL while there is no demand)',
    ADD COLUMN IF NOT EXISTS projected_stockout_at Nullable(DateTime64(3, 'UTC'))
        COMMENT 'updated_at + max(on_hand, 0) / demand_per_day days';

CREATE OR REPLACE VIEW {database}.current_stock AS
SELECT
    s.warehouse_id AS warehouse_id,
    s.sku AS sku,
    s.on_hand AS on_hand,
    s.reserved AS reserved,
    s.available AS available,
    s.on_order AS on_order,
    s.inventory_position AS inventory_position,
    s.next_expected_at AS next_expected_at,
    coalesce(p.low_stock_threshold, 10) AS low_stock_threshold,
    coalesce(p.target_stock, 50) AS target_stock,
    if(s.reorder_point < 0, low_stock_threshold, s.reorder_point) AS reorder_point,
    if(s.order_up_to < 0, target_stock, s.order_up_to) AS order_up_to,
    s.reorder_basis AS reorder_basis,
    s.demand_per_day AS demand_per_day,
    s.lead_time_days AS lead_time_days,
    s.days_of_cover AS days_of_cover,
    s.projected_stockout_at AS projected_stockout_at,
    multiIf(s.on_hand <= 0, 'out', s.on_hand <= low_stock_threshold, 'low', 'ok') AS status,
    s.updated_at AS updated_at,
    s.last_event_id AS last_event_id
FROM {database}.stock_levels AS s FINAL
LEFT JOIN
(
    SELECT sku, toNullable(low_stock_threshold) AS low_stock_threshold,
           toNullable(target_stock) AS target_stock
    FROM {database}.products FINAL
) AS p ON s.sku = p.sku;

-- Purchase orders late per supplier (the catalog's), by the clock.
CREATE OR REPLACE VIEW {database}.late_purchase_orders_by_supplier AS
SELECT
    if(p.supplier = '', '(no supplier)', p.supplier) AS supplier,
    count() AS late_orders,
    sum(o.remaining) AS late_units,
    max(o.hours_late) AS most_hours_late
FROM {database}.open_purchase_orders AS o
LEFT JOIN (SELECT sku, supplier FROM {database}.products FINAL) AS p ON o.sku = p.sku
WHERE o.hours_late > 0
GROUP BY supplier;
