-- Batch layer (issue 5): daily product trends per (warehouse_id, sku).
--
-- As of the newest day with sales (`as_of`, inclusive; normally today, so possibly partial):
-- units and revenue over 7 and 28 days from `sales_daily`, average daily sales, days of
-- cover = on-hand / 7-day average daily sales (NULL when nothing sold, 0 when out of stock),
-- and the SKU's ABC class by 28-day revenue over all warehouses: A = the top SKUs making
-- the first 80 % of revenue, B = the next 15 %, C = the rest (and SKUs with no revenue).
-- Refreshed daily at 02:00 UTC; `SYSTEM REFRESH VIEW inventory.product_trends` runs it now.

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.product_trends
REFRESH EVERY 1 DAY OFFSET 2 HOUR
(
    as_of               Date,
    warehouse_id        String,
    sku                 String,
    on_hand             Int64,
    units_7d            Int64,
    units_28d           Int64,
    revenue_28d         Decimal(38, 4),
    avg_daily_sales_7d  Float64,
    avg_daily_sales_28d Float64,
    days_of_cover       Nullable(Float64),
    abc_class           LowCardinality(String),
    refreshed_at        DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (warehouse_id, sku)
AS
WITH
    (SELECT max(day) FROM {database}.sales_daily) AS as_of_day,
    sales AS (
        SELECT
            warehouse_id,
            sku,
            sumIf(units_sold, day > as_of_day - 7) AS units_7d,
            sum(units_sold) AS units_28d,
            sum(revenue) AS revenue_28d
        FROM {database}.sales_daily
        WHERE day > as_of_day - 28 AND day <= as_of_day
        GROUP BY warehouse_id, sku
    ),
    keys AS (
        SELECT
            if(st.warehouse_id != '', st.warehouse_id, sa.warehouse_id) AS warehouse_id,
            if(st.sku != '', st.sku, sa.sku) AS sku,
            ifNull(st.on_hand, 0) AS on_hand,
            ifNull(sa.units_7d, 0) AS units_7d,
            ifNull(sa.units_28d, 0) AS units_28d,
            ifNull(sa.revenue_28d, toDecimal128(0, 4)) AS revenue_28d
        FROM (SELECT warehouse_id, sku, on_hand FROM {database}.stock_levels FINAL) AS st
        FULL OUTER JOIN sales AS sa ON st.warehouse_id = sa.warehouse_id AND st.sku = sa.sku
        SETTINGS join_use_nulls = 1
    ),
    abc AS (
        SELECT
            sku,
            multiIf(
                revenue <= 0, 'C',
                before < 0.80 * total, 'A',
                before < 0.95 * total, 'B',
                'C'
            ) AS abc_class
        FROM
        (
            SELECT
                sku,
                revenue,
                sum(revenue) OVER () AS total,
                sum(revenue) OVER (ORDER BY revenue DESC, sku
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
            FROM (SELECT sku, sum(revenue_28d) AS revenue FROM keys GROUP BY sku)
        )
    )
SELECT
    as_of_day AS as_of,
    k.warehouse_id AS warehouse_id,
    k.sku AS sku,
    k.on_hand AS on_hand,
    k.units_7d AS units_7d,
    k.units_28d AS units_28d,
    k.revenue_28d AS revenue_28d,
    k.units_7d / 7 AS avg_daily_sales_7d,
    k.units_28d / 28 AS avg_daily_sales_28d,
    if(k.units_7d = 0, NULL, greatest(k.on_hand, 0) / (k.units_7d / 7)) AS days_of_cover,
    a.abc_class AS abc_class,
    now64(3, 'UTC') AS refreshed_at
FROM keys AS k
LEFT JOIN abc AS a ON k.sku = a.sku;
