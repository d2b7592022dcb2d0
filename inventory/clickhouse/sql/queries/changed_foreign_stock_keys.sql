-- Like foreign_stock_keys.sql, for the rows written since since_ms (ClickHouse's clock):
-- picks up what a backfill writes while the flow runs. Parameters: lineage, since_ms.
SELECT warehouse_id, sku
FROM stock_levels FINAL
WHERE lineage != {lineage:String}
  AND (warehouse_id, sku) IN (
      SELECT warehouse_id, sku FROM stock_levels
      WHERE written_at >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
        AND lineage != {lineage:String})
