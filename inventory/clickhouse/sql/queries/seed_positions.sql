-- Per key and source partition, the offset of the last accepted message in `events`: the
-- messages up to it are already part of a seeded state. Parameters: keys.
SELECT warehouse_id, sku, source_topic, source_topic_id, source_partition, max(source_offset)
FROM events
WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
  AND source_offset >= 0
GROUP BY warehouse_id, sku, source_topic, source_topic_id, source_partition
