-- Per key, what its demand statistics are made of: the time of its first accepted event,
-- the units sold on each UTC day since (days without sales have no row), its counts and
-- stock movements (time, 1 for a count else 0, the count's event_id, its quantity or the
-- delta), and its hold requests refused for want of stock (time, units; v12).
-- Parameters: keys Array(Tuple(warehouse_id, sku)).
WITH accepted AS (
    SELECT
        warehouse_id,
        sku,
        toUnixTimestamp64Milli(min(occurred_at)) AS first_ms,
        arraySort(groupArrayIf(
            (toUnixTimestamp64Milli(toDateTime64(toStartOfDay(occurred_at), 3, 'UTC')), quantity),
            event_type = 'sale'
        )) AS sales,
        arraySort(groupArrayIf(
            (
                toUnixTimestamp64Milli(occurred_at),
                toUInt8(event_type = 'count'),
                if(event_type = 'count', event_id, ''),
                if(event_type = 'count', toInt64(quantity), toInt64(delta))
            ),
            event_type = 'count' OR delta != 0
        )) AS moves
    FROM accepted_events(keys = {keys:Array(Tuple(String, String))})
    GROUP BY warehouse_id, sku
),
refusals AS (
    SELECT
        warehouse_id,
        sku,
        arraySort(groupArray((toUnixTimestamp64Milli(decided_at), toInt64(quantity)))) AS refused
    FROM (
        SELECT DISTINCT warehouse_id, sku, reservation_id, event_id, decided_at, quantity
        FROM hold_decisions
        WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
          AND request = 'hold_request' AND decision = 'refused' AND reason = 'insufficient'
    )
    GROUP BY warehouse_id, sku
)
SELECT a.warehouse_id, a.sku, a.first_ms, a.sales, a.moves, r.refused
FROM accepted AS a
LEFT JOIN refusals AS r ON a.warehouse_id = r.warehouse_id AND a.sku = r.sku
