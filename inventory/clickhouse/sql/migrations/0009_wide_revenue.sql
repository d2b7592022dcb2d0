-- Operational exactness (issue 14): every sale decoding accepts is storable.
--
-- The contract allows quantity up to 10^9 and unit_price up to 10^12, so one sale's
-- revenue reaches 10^21 (10^25 in 1/10,000 units): beyond Decimal(18, 4) (< 10^14), and
-- the old ledger view multiplied in Int64 (< 9.2 x 10^18) before its cast, which failed
-- the whole insert with DECIMAL_OVERFLOW and stalled the flow on that message for good.
-- Revenue is now Decimal(38, 4) everywhere (< 10^34: 10^13 maximal sales per window), and
-- the ledger multiplies in Decimal128: units (scale 4) x price in 1/10,000 (scale 0), then
-- / 10,000, exact. Existing values are converted in place (widening loses nothing).
-- ALTER ... MODIFY QUERY swaps the view's query atomically, without a gap for inserts
-- (https://clickhouse.com/docs/en/sql-reference/statements/alter/view/).

ALTER TABLE {database}.sales_rates
    MODIFY COLUMN revenue Decimal(38, 4)
    COMMENT 'sum of quantity x unit_price (unpriced sales add 0)';

ALTER TABLE {database}.sales_ledger
    MODIFY COLUMN revenue Decimal(38, 4)
    COMMENT 'quantity x unit_price, price rounded to 1/10,000';

ALTER TABLE {database}.sales_ledger_mv MODIFY QUERY
SELECT
    event_id,
    warehouse_id,
    sku,
    quantity,
    toDecimal128(quantity, 4) * toDecimal128(round(ifNull(unit_price, 0) * 10000), 0) / 10000
        AS revenue,
    ifNull(order_id, concat('\0', event_id)) AS order_key,
    occurred_at
FROM {database}.events
WHERE event_type = 'sale'
  AND event_id NOT IN (
      SELECT event_id FROM {database}.sales_ledger
      WHERE event_id IN (SELECT event_id FROM {database}.events))
LIMIT 1 BY event_id;

-- A view keeps the column types it was created with: re-create the one over sales_rates.
CREATE OR REPLACE VIEW {database}.minute_sales AS
SELECT warehouse_id, sku, window_start, window_end, units_sold, revenue, orders
FROM {database}.sales_rates FINAL;
