-- Keys whose current stock row (FINAL) was computed by someone else than this flow's
-- lineage: a backfill, or this flow before its recovery state was lost. The flow rebuilds
-- their state from the tables (dataflows/seeds.py). Parameters: lineage.
SELECT warehouse_id, sku
FROM stock_levels FINAL
WHERE lineage != {lineage:String}
