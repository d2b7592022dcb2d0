-- Batch layer (issue 5): daily stockout minutes and product trends per (warehouse_id, sku).
--
-- As of the newest day with sales (`as_of`, inclusive; normally today, so possibly partial):
-- units and revenue over 7 and 28 days from `sales_daily`, average daily sales, days of
-- cover = on-hand / 7-day average daily sales (NULL when nothing sold, 0 when out of stock),
-- stockout minutes and days over 28 days (from `stockout_daily`),
-- and the SKU's ABC class by 28-day revenue over all warehouses: A = the top SKUs making
-- the first 80 % of revenue, B = the next 15 %, C = the rest (and SKUs with no revenue).
-- Refreshed daily at 02:00 UTC; `SYSTEM REFRESH VIEW inventory.product_trends` runs it now.

-- Stockout minutes per (warehouse_id, sku, day): the on-hand timeline rebuilt from the
-- history in `events` with the stream's rule (events in occurred_at order, a count after
-- the movements of the same millisecond, later counts by event_id), each level holding
-- until the next event of the key (the last one until the newest event of all); the
-- minutes at on-hand <= 0 are split at midnight UTC. Refreshed daily at 01:30 UTC.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.stockout_daily
REFRESH EVERY 1 DAY OFFSET 90 MINUTE
(
    warehouse_id      String,
    sku               String,
    day               Date,
    stockout_minutes  Float64
)
ENGINE = MergeTree
ORDER BY (warehouse_id, sku, day)
AS
WITH
    ordered AS (
        SELECT
            warehouse_id, sku, occurred_at, event_type, quantity, delta,
            sum(toUInt64(event_type = 'count')) OVER (
                PARTITION BY warehouse_id, sku
                ORDER BY occurred_at, event_type = 'count', event_id
                ROWS UNBOUNDED PRECEDING) AS grp,
            row_number() OVER (
                PARTITION BY warehouse_id, sku
                ORDER BY occurred_at, event_type = 'count', event_id) AS n
        FROM {database}.events FINAL
    ),
    levels AS (
        SELECT
            warehouse_id, sku, occurred_at, n,
            max(if(event_type = 'count', quantity, 0)) OVER (
                PARTITION BY warehouse_id, sku, grp) 
            + sum(if(event_type = 'count', 0, delta)) OVER (
                PARTITION BY warehouse_id, sku, grp ORDER BY n ROWS UNBOUNDED PRECEDING)
              AS on_hand
        FROM ordered
    ),
    spans AS (
        SELECT
            warehouse_id, sku, on_hand,
            occurred_at AS start,
            leadInFrame(occurred_at, 1, assumeNotNull((SELECT max(occurred_at) FROM {database}.events))) OVER (
                PARTITION BY warehouse_id, sku ORDER BY n
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS stop
        FROM levels
    )
SELECT warehouse_id, sku, day,
       sum(dateDiff('millisecond',
                    greatest(start, toDateTime64(day, 3, 'UTC')),
                    least(stop, toDateTime64(day + 1, 3, 'UTC')))) / 60000 AS stockout_minutes
FROM spans
ARRAY JOIN arrayMap(i -> toDate(start) + i, range(toUInt32(toDate(stop) - toDate(start)) + 1)) AS day
WHERE on_hand <= 0 AND stop > start
GROUP BY warehouse_id, sku, day;

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
    stockout_minutes_28d Float64,
    stockout_days_28d   UInt32,
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
    stockouts AS (
        SELECT warehouse_id, sku, sum(stockout_minutes) AS minutes, count() AS days
        FROM {database}.stockout_daily
        WHERE day > as_of_day - 28 AND day <= as_of_day AND stockout_minutes > 0
        GROUP BY warehouse_id, sku
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
    o.minutes AS stockout_minutes_28d,
    o.days AS stockout_days_28d,
    a.abc_class AS abc_class,
    now64(3, 'UTC') AS refreshed_at
FROM keys AS k
LEFT JOIN abc AS a ON k.sku = a.sku
LEFT JOIN stockouts AS o ON k.warehouse_id = o.warehouse_id AND k.sku = o.sku;
