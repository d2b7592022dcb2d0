-- Promotions overlapping [since, until) (inventory forecast).
SELECT sku, warehouse_id, toUnixTimestamp64Milli(starts_at), toUnixTimestamp64Milli(ends_at),
       uplift
FROM promotions FINAL
WHERE ends_at > fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
  AND starts_at < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
