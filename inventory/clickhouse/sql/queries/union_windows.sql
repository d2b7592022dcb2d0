-- Every sales window of the given keys recomputed from all their accepted sales in
-- `events`, as the stream computes them (revenue in 1/10,000, distinct orders, a sale
-- without order_id its own order; version = sales). Parameters: keys, window_ms.
SELECT
    warehouse_id,
    sku,
    intDiv(toUnixTimestamp64Milli(occurred_at), {window_ms:Int64}) * {window_ms:Int64} AS start,
    sum(quantity) AS units,
    sum(toInt128(quantity) * toInt128(round(ifNull(unit_price, 0) * 10000))) AS revenue_e4,
    uniqExact(ifNull(order_id, concat('\0', event_id))) AS orders,
    count() AS sales
FROM accepted_events(keys = {keys:Array(Tuple(String, String))})
WHERE event_type = 'sale'
GROUP BY warehouse_id, sku, start
