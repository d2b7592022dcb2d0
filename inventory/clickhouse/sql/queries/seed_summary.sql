-- Per key, what the stream's stock rule makes of every accepted event in `events`: the
-- number of events, the newest (occurred_at, event_id), the governing count and on-hand
-- (the latest count plus the deltas strictly after it; 0 plus every delta without a count),
-- and the units oversold.
-- Parameters: keys Array(Tuple(warehouse_id, sku)).
WITH counts AS (
    SELECT
        warehouse_id,
        sku,
        toUnixTimestamp64Milli(max(occurred_at)) AS count_ms,
        argMax(event_id, (occurred_at, event_id)) AS count_id,
        argMax(quantity, (occurred_at, event_id)) AS count_qty
    FROM accepted_events(keys = {keys:Array(Tuple(String, String))})
    WHERE event_type = 'count'
    GROUP BY warehouse_id, sku
)
SELECT
    e.warehouse_id AS warehouse_id,
    e.sku AS sku,
    count() AS accepted,
    toUnixTimestamp64Milli(max(e.occurred_at)) AS newest_ms,
    argMax(e.event_id, (e.occurred_at, e.event_id)) AS newest_id,
    any(c.count_ms) AS count_ms,
    any(c.count_id) AS count_id,
    ifNull(any(c.count_qty), 0)
        + sumIf(e.delta, e.event_type != 'count'
                         AND ifNull(toUnixTimestamp64Milli(e.occurred_at) > c.count_ms, true))
        AS on_hand,
    sum(e.oversold) AS oversold
FROM accepted_events(keys = {keys:Array(Tuple(String, String))}) AS e
LEFT JOIN counts AS c ON e.warehouse_id = c.warehouse_id AND e.sku = c.sku
GROUP BY e.warehouse_id, e.sku
SETTINGS join_use_nulls = 1
