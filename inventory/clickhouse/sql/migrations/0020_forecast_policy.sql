-- Contract v12 (issue 34, second part): the `forecast` replenishment policy. A SKU with
-- `products.replenishment_policy = 'forecast'` reorders on the forecast versions
-- `inventory forecast` publishes to the `inventory.forecasts` topic, watched by a
-- tracking signal (docs/semantics.md, "The forecast policy"). Backward compatible: old
-- rows read forecast_version 0 (no forecast).

ALTER TABLE {database}.products
    COMMENT COLUMN replenishment_policy
        'static (threshold and target), demand (computed from live demand) or forecast (v12)';

ALTER TABLE {database}.stock_levels
    ADD COLUMN IF NOT EXISTS forecast_version UInt32 DEFAULT 0
        COMMENT 'the forecast version the reorder point comes from (basis forecast); 0: none';

-- Each closed day of each key as the flow closed it: units sold, units of hold requests
-- refused for want of stock, time out of stock and the unconstrained demand the
-- `demand` and `forecast` policies learn from (docs/semantics.md, "Unconstrained
-- demand"). A pure function of the accepted events: a replay writes identical rows.
CREATE TABLE IF NOT EXISTS {database}.demand_daily
(
    warehouse_id     LowCardinality(String),
    sku              String,
    day              Date COMMENT 'UTC',
    sold             Int64 COMMENT 'units of accepted sales that occurred in the day',
    refused          Int64 COMMENT 'units of hold requests refused insufficient in the day',
    out_of_stock_ms  Int64 COMMENT 'time the event-time on-hand was <= 0 (after the key''s first event)',
    lost             Float64 COMMENT 'max(refused, estimated sales lost while out of stock)',
    demand           Float64 COMMENT 'sold + lost: the unconstrained demand',
    written_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (warehouse_id, sku, day);
