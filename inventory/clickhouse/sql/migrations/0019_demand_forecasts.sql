-- Issue 34 (first part): forecasts from the batch layer. `inventory forecast` fits, per
-- (warehouse, SKU), daily demand with a weekday profile, a level and trend and the uplift
-- of promotions, from `sales_daily` (days mostly out of stock left out), and writes the
-- next days' forecasts with their error and its accuracy on a holdout
-- (docs/semantics.md, "Demand forecasts"). New tables only: nothing existing changes.

-- Planned promotions (the generator's promotion flags write them; planners may too).
CREATE TABLE IF NOT EXISTS {database}.promotions
(
    promotion_id  String,
    sku           String,
    warehouse_id  LowCardinality(String) DEFAULT '' COMMENT 'empty: every warehouse',
    starts_at     DateTime64(3, 'UTC'),
    ends_at       DateTime64(3, 'UTC') COMMENT 'exclusive',
    uplift        Float64 COMMENT 'expected demand multiplier while it runs (4: four times)',
    updated_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (sku, warehouse_id, promotion_id);

-- One row per key and forecast version: what was fitted and how accurate it was.
CREATE TABLE IF NOT EXISTS {database}.forecast_runs
(
    warehouse_id      LowCardinality(String),
    sku               String,
    forecast_version  UInt32 COMMENT 'the last day of history it learned from, as YYYYMMDD',
    model             LowCardinality(String) COMMENT 'poisson_glm, or mean (short history)',
    history_days      UInt32 COMMENT 'days fitted (those mostly out of stock left out)',
    censored_days     UInt32 COMMENT 'days left out: out of stock for more than the limit',
    level             Float64 COMMENT 'expected units a day at the end of history, no promotion, weekday average',
    trend             Float64 COMMENT 'relative change of the level per day (0.01: +1 % a day)',
    weekday_factors   Array(Float64) COMMENT 'Monday .. Sunday, averaging 1',
    uplift            Float64 COMMENT 'demand multiplier of a promotion (fitted, else planned, else 1)',
    uplift_source     LowCardinality(String) COMMENT 'fitted, planned or none',
    dispersion        Float64 COMMENT 'residual variance / mean (1: Poisson)',
    holdout_days      UInt32 COMMENT 'the last days of history forecast from the rest to measure accuracy',
    wape              Nullable(Float64) COMMENT 'sum |actual - forecast| / sum actual, on the holdout',
    mase              Nullable(Float64) COMMENT 'mean |actual - forecast| / mean |y_t - y_(t-7)| in training',
    trained_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(trained_at)
ORDER BY (warehouse_id, sku, forecast_version);

-- The forecast per key and day of the horizon after the version's last day.
CREATE TABLE IF NOT EXISTS {database}.demand_forecasts
(
    warehouse_id      LowCardinality(String),
    sku               String,
    forecast_version  UInt32,
    day               Date,
    demand            Float64 COMMENT 'expected units',
    variance          Float64 COMMENT 'of the day''s units: dispersion x demand',
    lower             Float64 COMMENT '90 % prediction interval (normal approximation, >= 0)',
    upper             Float64,
    promotion         Float64 COMMENT 'share of the day under a planned promotion',
    trained_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(trained_at)
PARTITION BY toYYYYMM(day)
ORDER BY (warehouse_id, sku, forecast_version, day);

-- The latest forecast version of every key, with its accuracy.
CREATE OR REPLACE VIEW {database}.latest_forecasts AS
SELECT f.warehouse_id, f.sku, f.forecast_version, f.day, f.demand, f.variance, f.lower,
       f.upper, f.promotion, r.model, r.wape, r.mase
FROM {database}.demand_forecasts AS f FINAL
INNER JOIN
(
    SELECT warehouse_id, sku, max(v) AS forecast_version, argMax(m, v) AS model,
           argMax(w, v) AS wape, argMax(s, v) AS mase
    FROM
    (
        SELECT warehouse_id, sku, forecast_version AS v, model AS m, wape AS w, mase AS s
        FROM {database}.forecast_runs FINAL
    )
    GROUP BY warehouse_id, sku
) AS r USING (warehouse_id, sku, forecast_version);
