-- Per key and source partition, the offset of the last accepted message: the messages up
-- to it are already part of a seeded state. From `events` and `event_acceptances` both
-- (a re-accepted copy's row in `events` merges away into its earliest copy; acceptances
-- before v8 have no position). Parameters: keys.
SELECT warehouse_id, sku, source_topic, source_topic_id, source_partition, max(source_offset)
FROM
(
    SELECT warehouse_id, sku, source_topic, source_topic_id, source_partition, source_offset
    FROM events
    WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
      AND source_offset >= 0
    UNION ALL
    SELECT warehouse_id, sku, source_topic, source_topic_id, source_partition, source_offset
    FROM event_acceptances
    WHERE (warehouse_id, sku) IN {keys:Array(Tuple(String, String))}
      AND source_offset >= 0
)
GROUP BY warehouse_id, sku, source_topic, source_topic_id, source_partition
