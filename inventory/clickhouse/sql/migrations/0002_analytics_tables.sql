-- Stream analytics (issue 3): product catalog, sales-rate windows, alerts.

-- Product catalog: per-SKU stock policy. The row with the latest updated_at wins.
CREATE TABLE IF NOT EXISTS {database}.products
(
    sku                  String,
    name                 String DEFAULT '',
    unit_price           Nullable(Float64),
    low_stock_threshold  UInt32 COMMENT 'low_stock fires at on-hand <= this',
    target_stock         UInt32 COMMENT 'reorder requests top up to this level',
    updated_at           DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY sku;

-- Event-time tumbling windows of sales per (warehouse_id, sku), as running totals:
-- the row with the highest version is the window's exact total.
CREATE TABLE IF NOT EXISTS {database}.sales_rates
(
    warehouse_id  LowCardinality(String),
    sku           String,
    window_start  DateTime64(3, 'UTC'),
    window_end    DateTime64(3, 'UTC'),
    units_sold    Int64,
    revenue       Decimal(18, 4) COMMENT 'sum of quantity x unit_price (unpriced sales add 0)',
    orders        UInt32 COMMENT 'distinct order_id; a sale without one counts as one order',
    version       UInt64 COMMENT 'number of sales in the window so far'
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (warehouse_id, sku, window_start);

-- One row per threshold crossing; alert_id is deterministic, so replays collapse.
CREATE TABLE IF NOT EXISTS {database}.alerts
(
    alert_id          String,
    kind              LowCardinality(String) COMMENT 'low_stock, out_of_stock, back_in_stock',
    warehouse_id      LowCardinality(String),
    sku               String,
    on_hand           Int64,
    threshold         Int64,
    reorder_quantity  Int64 COMMENT '> 0 for low_stock and out_of_stock, 0 for back_in_stock',
    event_id          String COMMENT 'the event that caused the crossing',
    raised_at         DateTime64(3, 'UTC') COMMENT 'occurred_at of that event'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(raised_at)
ORDER BY (warehouse_id, sku, raised_at, alert_id);
