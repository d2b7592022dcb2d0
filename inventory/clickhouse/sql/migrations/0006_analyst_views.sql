-- Analyst views (issue 5): stable names over the engine-specific tables, so queries need
-- no FINAL or -Merge combinators. Documented in docs/analysts.md.

-- Current stock with its policy and band. SKUs missing from the catalog use the
-- documented default threshold 10 and target 50 (INVENTORY_LOW_STOCK_THRESHOLD and
-- INVENTORY_DEFAULT_TARGET_STOCK at their defaults).
CREATE VIEW IF NOT EXISTS {database}.current_stock AS
SELECT
    s.warehouse_id AS warehouse_id,
    s.sku AS sku,
    s.on_hand AS on_hand,
    coalesce(p.low_stock_threshold, 10) AS low_stock_threshold,
    coalesce(p.target_stock, 50) AS target_stock,
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

-- Sales per day and per hour, merged.
CREATE VIEW IF NOT EXISTS {database}.daily_sales AS
SELECT warehouse_id, sku, day, sum(units_sold) AS units_sold, sum(revenue) AS revenue,
       sum(sales) AS sales, uniqExactMerge(orders) AS orders
FROM {database}.sales_daily
GROUP BY warehouse_id, sku, day;

CREATE VIEW IF NOT EXISTS {database}.hourly_sales AS
SELECT warehouse_id, sku, hour, sum(units_sold) AS units_sold, sum(revenue) AS revenue,
       sum(sales) AS sales, uniqExactMerge(orders) AS orders
FROM {database}.sales_hourly
GROUP BY warehouse_id, sku, hour;

-- Minute windows and alerts without duplicates.
CREATE VIEW IF NOT EXISTS {database}.minute_sales AS
SELECT warehouse_id, sku, window_start, window_end, units_sold, revenue, orders
FROM {database}.sales_rates FINAL;

CREATE VIEW IF NOT EXISTS {database}.alert_log AS
SELECT alert_id, kind, warehouse_id, sku, on_hand, threshold, reorder_quantity, event_id,
       raised_at
FROM {database}.alerts FINAL;
