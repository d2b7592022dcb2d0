-- Batch layer (issue 5): incremental hourly and daily sales that stay exact under replay.
--
-- The dataflow is at-least-once, so `events` may receive the same event again (a replay
-- after a crash). Aggregating MVs on `events` would count it twice. Instead every sale
-- passes a ledger first: `sales_ledger_mv` lets through only the sales whose event_id is
-- not in `sales_ledger` yet (the subquery on `events` inside an MV sees just the inserted
-- block, so the check is an index lookup of that block's ids), and the rollups are
-- materialized from the ledger's inserts. A replayed event follows its original insert
-- (the flow writes an event's rows from the worker that owns its key), so it is dropped.

-- Every accepted sale exactly once (first arrival).
CREATE TABLE IF NOT EXISTS {database}.sales_ledger
(
    event_id      String,
    warehouse_id  LowCardinality(String),
    sku           String,
    quantity      Int64,
    revenue       Decimal(18, 4) COMMENT 'quantity x unit_price, price rounded to 1/10,000',
    order_key     String COMMENT 'order_id, or the event_id for a sale without one',
    occurred_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY event_id;

CREATE TABLE IF NOT EXISTS {database}.sales_hourly
(
    warehouse_id  LowCardinality(String),
    sku           String,
    hour          DateTime('UTC'),
    units_sold    SimpleAggregateFunction(sum, Int64),
    revenue       SimpleAggregateFunction(sum, Decimal(38, 4)),
    sales         SimpleAggregateFunction(sum, UInt64),
    orders        AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (warehouse_id, sku, hour);

CREATE TABLE IF NOT EXISTS {database}.sales_daily
(
    warehouse_id  LowCardinality(String),
    sku           String,
    day           Date,
    units_sold    SimpleAggregateFunction(sum, Int64),
    revenue       SimpleAggregateFunction(sum, Decimal(38, 4)),
    sales         SimpleAggregateFunction(sum, UInt64),
    orders        AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (warehouse_id, sku, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.sales_ledger_mv TO {database}.sales_ledger AS
SELECT
    event_id,
    warehouse_id,
    sku,
    quantity,
    CAST(quantity * toInt64(round(ifNull(unit_price, 0) * 10000)) AS Decimal(18, 4)) / 10000
        AS revenue,
    ifNull(order_id, concat('\0', event_id)) AS order_key,
    occurred_at
FROM {database}.events
WHERE event_type = 'sale'
  AND event_id NOT IN (
      SELECT event_id FROM {database}.sales_ledger
      WHERE event_id IN (SELECT event_id FROM {database}.events))
LIMIT 1 BY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.sales_hourly_mv TO {database}.sales_hourly AS
SELECT
    warehouse_id,
    sku,
    toStartOfHour(occurred_at) AS hour,
    sum(quantity) AS units_sold,
    sum(toDecimal128(revenue, 4)) AS revenue,
    count() AS sales,
    uniqExactState(order_key) AS orders
FROM {database}.sales_ledger
GROUP BY warehouse_id, sku, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.sales_daily_mv TO {database}.sales_daily AS
SELECT
    warehouse_id,
    sku,
    toDate(occurred_at) AS day,
    sum(quantity) AS units_sold,
    sum(toDecimal128(revenue, 4)) AS revenue,
    count() AS sales,
    uniqExactState(order_key) AS orders
FROM {database}.sales_ledger
GROUP BY warehouse_id, sku, day;

-- Sales already in `events` when this migration runs enter the ledger (and so the
-- rollups) once; re-running inserts nothing.
INSERT INTO {database}.sales_ledger
SELECT
    event_id,
    warehouse_id,
    sku,
    quantity,
    CAST(quantity * toInt64(round(ifNull(unit_price, 0) * 10000)) AS Decimal(18, 4)) / 10000,
    ifNull(order_id, concat('\0', event_id)),
    occurred_at
FROM {database}.events FINAL
WHERE event_type = 'sale'
  AND event_id NOT IN (SELECT event_id FROM {database}.sales_ledger);
