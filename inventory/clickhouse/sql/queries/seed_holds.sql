-- Per key, the accepted events of every reservation the key may still need: those with an
-- event inside the lateness horizon of the key's newest event, and those whose reserve
-- expires after it (still active unless closed). Parameters: keys, lateness_ms.
WITH newest AS (
    SELECT warehouse_id, sku, max(occurred_at) AS newest
    FROM accepted_events(keys = {keys:Array(Tuple(String, String))})
    GROUP BY warehouse_id, sku
),
wanted AS (
    SELECT DISTINCT e.warehouse_id AS warehouse_id, e.sku AS sku,
           assumeNotNull(e.reservation_id) AS reservation_id
    FROM accepted_events(keys = {keys:Array(Tuple(String, String))}) AS e
    INNER JOIN newest AS k ON e.warehouse_id = k.warehouse_id AND e.sku = k.sku
    WHERE e.reservation_id IS NOT NULL
      AND (e.occurred_at >= k.newest - toIntervalMillisecond({lateness_ms:Int64})
           OR (e.event_type = 'reserve' AND e.expires_at > k.newest))
)
SELECT
    e.warehouse_id AS warehouse_id,
    e.sku AS sku,
    assumeNotNull(e.reservation_id) AS reservation_id,
    e.event_type AS event_type,
    toUnixTimestamp64Milli(e.occurred_at) AS occurred_ms,
    e.event_id AS event_id,
    e.quantity AS quantity,
    toUnixTimestamp64Milli(ifNull(e.expires_at, e.occurred_at)) AS expires_ms
FROM accepted_events(keys = {keys:Array(Tuple(String, String))}) AS e
WHERE e.reservation_id IS NOT NULL
  AND e.event_type IN ('reserve', 'release', 'sale')
  AND (e.warehouse_id, e.sku, assumeNotNull(e.reservation_id)) IN (SELECT * FROM wanted)
ORDER BY occurred_ms, event_id
