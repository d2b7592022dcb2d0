-- Per key, what its demand statistics are made of: the day of its first accepted event
-- and the units sold on each UTC day since (days without sales have no row).
-- Parameters: keys Array(Tuple(warehouse_id, sku)).
SELECT
    warehouse_id,
    sku,
    toUnixTimestamp64Milli(min(occurred_at)) AS first_ms,
    arraySort(groupArrayIf(
        (toUnixTimestamp64Milli(toDateTime64(toStartOfDay(occurred_at), 3, 'UTC')), quantity),
        event_type = 'sale'
    )) AS sales
FROM accepted_events(keys = {keys:Array(Tuple(String, String))})
GROUP BY warehouse_id, sku
