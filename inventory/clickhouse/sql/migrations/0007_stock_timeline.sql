-- Stock over time for one SKU (issue 6): a parameterized view, so a dashboard or an
-- analyst reads the on-hand history of a SKU in every warehouse without scanning the rest:
--
--     SELECT occurred_at, warehouse_id, on_hand
--     FROM inventory.stock_timeline(sku = 'SKU-0001')
--     ORDER BY warehouse_id, occurred_at;
--
-- One row per accepted event of the SKU, with the on-hand level right after it, computed
-- with the stream's rule (docs/semantics.md): events in occurred_at order, a count after
-- the movements of the same millisecond, later counts by event_id; a count sets the level,
-- every other event adds its delta. The last row of a warehouse equals
-- stock_levels FINAL for that key.
CREATE VIEW IF NOT EXISTS {database}.stock_timeline AS
WITH ordered AS (
    SELECT
        warehouse_id, occurred_at, event_id, event_type, quantity, delta,
        sum(toUInt64(event_type = 'count')) OVER (
            PARTITION BY warehouse_id
            ORDER BY occurred_at, event_type = 'count', event_id
            ROWS UNBOUNDED PRECEDING) AS grp,
        row_number() OVER (
            PARTITION BY warehouse_id
            ORDER BY occurred_at, event_type = 'count', event_id) AS n
    FROM {database}.events FINAL
    WHERE sku = {sku:String}
)
SELECT
    warehouse_id,
    {sku:String} AS sku,
    occurred_at,
    event_id,
    event_type,
    max(if(event_type = 'count', quantity, 0)) OVER (PARTITION BY warehouse_id, grp)
        + sum(if(event_type = 'count', 0, delta)) OVER (
            PARTITION BY warehouse_id, grp ORDER BY n ROWS UNBOUNDED PRECEDING) AS on_hand
FROM ordered;
