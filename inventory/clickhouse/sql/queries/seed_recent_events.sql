-- Per key, the accepted events within `reach_ms` of its newest one: what the flow keeps
-- of a key besides on-hand (dedup ids and movements inside the lateness horizon, open
-- sales windows). Parameters: keys, reach_ms (lateness + window length).
SELECT
    e.warehouse_id AS warehouse_id,
    e.sku AS sku,
    e.event_id AS event_id,
    toUnixTimestamp64Milli(e.occurred_at) AS occurred_ms,
    e.event_type AS event_type,
    e.quantity AS quantity,
    e.delta AS delta,
    e.unit_price AS unit_price,
    e.order_id AS order_id
FROM accepted_events(keys = {keys:Array(Tuple(String, String))}) AS e
INNER JOIN (
    SELECT warehouse_id, sku, max(occurred_at) AS newest
    FROM accepted_events(keys = {keys:Array(Tuple(String, String))})
    GROUP BY warehouse_id, sku
) AS k ON e.warehouse_id = k.warehouse_id AND e.sku = k.sku
WHERE e.occurred_at >= k.newest - toIntervalMillisecond({reach_ms:Int64})
