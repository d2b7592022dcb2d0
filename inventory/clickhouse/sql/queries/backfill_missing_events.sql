-- Keys of a backfill's input whose accepted events in `events` are not all in the input:
-- their current stock was computed from events the backfill does not see. `backfill_input`
-- is the scratch table of the input's (warehouse_id, sku, event_id), named per run.
SELECT e.warehouse_id, e.sku, count() AS missing
FROM events AS e FINAL
WHERE (e.warehouse_id, e.sku) IN (SELECT warehouse_id, sku FROM {input:Identifier})
  AND (e.warehouse_id, e.sku, e.event_id) NOT IN (
      SELECT warehouse_id, sku, event_id FROM {input:Identifier})
GROUP BY e.warehouse_id, e.sku
ORDER BY missing DESC, e.warehouse_id, e.sku
