-- ClickHouse's clock in epoch milliseconds (stock_levels.written_at is stamped on it).
SELECT toUnixTimestamp64Milli(now64(3))
