-- Contract version 3 (issue 16): dead letters carry a stable reason code beside the human
-- reason, so dashboards and analysts group by it instead of parsing text. The codes are
-- listed in docs/contracts.md; the writer sends them (inventory/reasons.py), and rows
-- written before this migration get the same code from this DEFAULT (a test keeps the
-- two in step).
ALTER TABLE {database}.dead_letters
    ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT multiIf(
        startsWith(error, 'late:'), 'late',
        startsWith(error, 'rejected by ClickHouse'), 'rejected',
        startsWith(error, 'empty message'), 'empty',
        startsWith(error, 'message larger than'), 'too_large',
        startsWith(error, 'invalid JSON'), 'invalid_json',
        startsWith(error, 'event must be a JSON object'), 'not_object',
        startsWith(error, 'missing field'), 'missing_field',
        startsWith(error, 'event_id '), 'bad_event_id',
        startsWith(error, 'event_type '), 'bad_event_type',
        startsWith(error, 'sku '), 'bad_sku',
        startsWith(error, 'warehouse_id '), 'bad_warehouse_id',
        startsWith(error, 'quantity '), 'bad_quantity',
        startsWith(error, 'occurred_at is before'), 'absurd_time',
        startsWith(error, 'occurred_at is not before'), 'absurd_time',
        startsWith(error, 'occurred_at is too far after'), 'absurd_time',
        startsWith(error, 'occurred_at '), 'bad_occurred_at',
        startsWith(error, 'unit_price '), 'bad_unit_price',
        startsWith(error, 'order_id '), 'bad_order_id',
        startsWith(error, 'undecodable event'), 'undecodable',
        'other')
    COMMENT 'stable reason code (docs/contracts.md); error holds the human reason'
    AFTER error;
