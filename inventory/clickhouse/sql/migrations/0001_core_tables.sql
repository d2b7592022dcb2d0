-- Core tables of the stream layer (contracts.md section 3).
-- Every table is a ReplacingMergeTree keyed on the row's identity, so rows replayed
-- by the at-least-once dataflow collapse: query with FINAL for exact answers.

CREATE DATABASE IF NOT EXISTS {database};

-- One row per accepted (decoded, deduplicated, not late) event.
CREATE TABLE IF NOT EXISTS {database}.events
(
    event_id      String,
    event_type    LowCardinality(String),
    sku           String,
    warehouse_id  LowCardinality(String),
    quantity      Int64,
    delta         Int64 COMMENT 'signed stock effect; 0 for count (a count sets the level)',
    unit_price    Nullable(Float64),
    order_id      Nullable(String),
    occurred_at   DateTime64(3, 'UTC') COMMENT 'event time',
    ingested_at   DateTime64(3, 'UTC') COMMENT 'Kafka message timestamp'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (warehouse_id, sku, occurred_at, event_id);

-- Latest on-hand per (warehouse_id, sku); the row with the highest version wins.
CREATE TABLE IF NOT EXISTS {database}.stock_levels
(
    warehouse_id   LowCardinality(String),
    sku            String,
    on_hand        Int64,
    version        UInt64 COMMENT 'number of accepted events applied',
    updated_at     DateTime64(3, 'UTC') COMMENT 'occurred_at of the newest applied event',
    last_event_id  String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (warehouse_id, sku);

-- One row per rejected message (malformed or late), keyed by its source position.
CREATE TABLE IF NOT EXISTS {database}.dead_letters
(
    topic        LowCardinality(String),
    partition    Int32,
    offset       Int64,
    key          Nullable(String),
    payload      String,
    error        String,
    received_at  DateTime64(3, 'UTC') COMMENT 'Kafka message timestamp'
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, partition, offset);
