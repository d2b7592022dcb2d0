"""How each record the dataflow emits becomes a row of its ClickHouse table.

Every value is derived from the input (event time, Kafka position and timestamp), never
from the clock, so a replayed record gives an identical row. Timestamps are clamped to
what ``DateTime64(3)`` stores (1970 to 2299).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson

from inventory.core.contract import REVENUE_EXPONENT
from inventory.core.reasons import reason_code
from inventory.core.records import (
    Alert,
    DeadLetter,
    DemandDay,
    Event,
    HoldDecision,
    PurchaseOrder,
    SalesWindow,
    Source,
    StockLevel,
)

EPOCH_DAY = date(1970, 1, 1)
MAX_STORED_MS = 10_413_791_999_999  # 2299-12-31T23:59:59.999Z, the end of DateTime64(3)


def stored_ms(ms: int) -> int:
    """A timestamp as stored: a Kafka timestamp may be anything a producer sets."""
    return min(max(ms, 0), MAX_STORED_MS)


Row = (
    Event | StockLevel | DeadLetter | SalesWindow | Alert | PurchaseOrder | HoldDecision | DemandDay
)

EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "sku",
    "warehouse_id",
    "quantity",
    "delta",
    "unit_price",
    "order_id",
    "occurred_at",
    "ingested_at",
    "source_topic",
    "source_topic_id",
    "source_partition",
    "source_offset",
    "reservation_id",
    "expires_at",
    "po_id",
    "oversold",
)
STOCK_COLUMNS = (
    "warehouse_id",
    "sku",
    "on_hand",
    "version",
    "updated_at",
    "last_event_id",
    "lineage",
    "reserved",
    "available",
    "on_order",
    "next_expected_at",
    "reorder_point",
    "order_up_to",
    "reorder_basis",
    "demand_per_day",
    "lead_time_days",
    "days_of_cover",
    "projected_stockout_at",
    "oversold",
    "forecast_version",
)
DEAD_LETTER_COLUMNS = (
    "topic",
    "topic_id",
    "partition",
    "offset",
    "key",
    "payload",
    "error",
    "reason",
    "received_at",
)


def event_row(e: Event) -> tuple[Any, ...]:
    return (
        e.event_id,
        e.event_type,
        e.sku,
        e.warehouse_id,
        e.quantity,
        e.delta,
        e.unit_price,
        e.order_id,
        e.occurred_ms,
        stored_ms(e.source.timestamp_ms),
        e.source.topic,
        e.source.topic_id,
        e.source.partition,
        e.source.offset,
        e.reservation_id,
        e.expires_ms,
        e.po_id,
        e.oversold,
    )


def stock_row(s: StockLevel) -> tuple[Any, ...]:
    return (
        s.warehouse_id,
        s.sku,
        s.on_hand,
        s.version,
        stored_ms(s.updated_ms),
        s.last_event_id,
        s.lineage,
        s.reserved,
        s.on_hand - s.reserved,
        s.on_order,
        stored_ms(s.next_expected_ms) if s.next_expected_ms >= 0 else None,
        s.reorder_point,
        s.order_up_to,
        s.reorder_basis,
        s.demand_per_day,
        s.lead_time_days,
        s.days_of_cover,
        None if (stockout := s.projected_stockout_ms) is None else stored_ms(stockout),
        s.oversold,
        s.forecast_version,
    )


def dead_letter_row(d: DeadLetter) -> tuple[Any, ...]:
    return (
        d.source.topic,
        d.source.topic_id,
        d.source.partition,
        d.source.offset,
        d.key,
        d.payload or b"",
        d.error,
        reason_code(d.error),
        stored_ms(d.source.timestamp_ms),
    )


SALES_COLUMNS = (
    "warehouse_id",
    "sku",
    "window_start",
    "window_end",
    "units_sold",
    "revenue",
    "orders",
    "version",
)
ALERT_COLUMNS = (
    "alert_id",
    "kind",
    "warehouse_id",
    "sku",
    "on_hand",
    "threshold",
    "reorder_quantity",
    "event_id",
    "raised_at",
    "po_id",
    "expected_at",
    "reorder_point",
)
ORDER_COLUMNS = (
    "po_id",
    "warehouse_id",
    "sku",
    "status",
    "quantity",
    "opened_at",
    "expected_at",
    "received_at",
    "received_quantity",
    "receipt_event_id",
    "alert_id",
    "version",
    "cancelled_quantity",
    "remaining",
    "closed_at",
)


def sales_row(w: SalesWindow) -> tuple[Any, ...]:
    revenue = Decimal(w.revenue_e4).scaleb(REVENUE_EXPONENT)
    return (
        w.warehouse_id,
        w.sku,
        w.window_start_ms,
        w.window_end_ms,
        w.units_sold,
        revenue,
        w.orders,
        w.version,
    )


def alert_row(a: Alert) -> tuple[Any, ...]:
    return (
        a.alert_id,
        a.kind,
        a.warehouse_id,
        a.sku,
        a.on_hand,
        a.threshold,
        a.reorder_quantity,
        a.event_id,
        a.raised_ms,
        a.po_id,
        stored_ms(a.expected_ms) if a.expected_ms >= 0 else None,
        a.reorder_point,
    )


def order_row(o: PurchaseOrder) -> tuple[Any, ...]:
    return (
        o.po_id,
        o.warehouse_id,
        o.sku,
        o.status,
        o.quantity,
        stored_ms(o.opened_ms),
        stored_ms(o.expected_ms),
        stored_ms(o.received_ms) if o.received_ms >= 0 else None,
        o.received_quantity,
        o.receipt_event_id,
        o.alert_id,
        o.version,
        o.cancelled_quantity,
        o.remaining,
        stored_ms(o.closed_ms) if o.closed_ms >= 0 else None,
    )


DECISION_COLUMNS = (
    "reservation_id",
    "warehouse_id",
    "sku",
    "event_id",
    "request",
    "decision",
    "reason",
    "quantity",
    "available",
    "expires_at",
    "decided_at",
    "version",
    "backordered",
    "ships_at",
)


def decision_row(d: HoldDecision) -> tuple[Any, ...]:
    return (
        d.reservation_id,
        d.warehouse_id,
        d.sku,
        d.event_id,
        d.request,
        d.decision,
        d.reason,
        d.quantity,
        d.available,
        stored_ms(d.expires_ms) if d.expires_ms >= 0 else None,
        stored_ms(d.decided_ms),
        d.version,
        d.backordered,
        stored_ms(d.ships_ms) if d.ships_ms >= 0 else None,
    )


DEMAND_COLUMNS = (
    "warehouse_id",
    "sku",
    "day",
    "sold",
    "refused",
    "out_of_stock_ms",
    "lost",
    "demand",
)


def demand_row(d: DemandDay) -> tuple[Any, ...]:
    return (
        d.warehouse_id,
        d.sku,
        EPOCH_DAY + timedelta(days=d.day_ms // 86_400_000),
        d.sold,
        d.refused,
        d.out_of_stock_ms,
        d.lost,
        d.demand,
    )


TABLES: dict[type, tuple[str, Sequence[str], Callable[[Any], tuple[Any, ...]]]] = {
    Event: ("events", EVENT_COLUMNS, event_row),
    StockLevel: ("stock_levels", STOCK_COLUMNS, stock_row),
    DeadLetter: ("dead_letters", DEAD_LETTER_COLUMNS, dead_letter_row),
    SalesWindow: ("sales_rates", SALES_COLUMNS, sales_row),
    Alert: ("alerts", ALERT_COLUMNS, alert_row),
    PurchaseOrder: ("purchase_orders", ORDER_COLUMNS, order_row),
    HoldDecision: ("hold_decisions", DECISION_COLUMNS, decision_row),
    DemandDay: ("demand_daily", DEMAND_COLUMNS, demand_row),
}


def group_records(items: list[Row]) -> dict[type, list[Row]]:
    """Records per type (so per table), in one pass, in order."""
    grouped: dict[type, list[Row]] = {}
    for item in items:
        kind = type(item)
        records = grouped.get(kind)
        if records is None:
            records = grouped[kind] = []
        records.append(item)
    return grouped


def rejected_letter(table: str, record: Row, reason: str) -> DeadLetter:
    """The dead letter for a record whose row ``table`` refused (``reason``: the database's).

    An event keeps its message's position, key and bytes. A derived row (stock level,
    window, alert) has no message of its own: it is dead-lettered under topic
    ``clickhouse:<table>`` with a stable offset derived from its identity and its row as
    the JSON payload, so a replay of it collapses onto the same letter.
    """
    why = f"rejected by ClickHouse table {table}: {reason}"
    if isinstance(record, Event):
        return DeadLetter(record.source, record.key, record.payload, why)
    if isinstance(record, DeadLetter):
        raise TypeError("a dead letter refused by dead_letters cannot be dead-lettered")
    _, columns, to_row = TABLES[type(record)]
    values = {c: _json_value(v) for c, v in zip(columns, to_row(record), strict=True)}
    payload = orjson.dumps(values, default=str)
    values.pop("lineage", None)  # who computed a row is not part of what it is
    identity = hashlib.blake2b(orjson.dumps(values, default=str), digest_size=8).digest()
    offset = int.from_bytes(identity, "big") & (2**63 - 1)
    source = Source(f"clickhouse:{table}", 0, offset, _event_ms(record))
    return DeadLetter(source, None, payload, why)


def _json_value(value: Any) -> Any:
    """JSON numbers beyond 64 bits (a stock version) as strings."""
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return str(value)
    return value


def _event_ms(
    record: StockLevel | SalesWindow | Alert | PurchaseOrder | HoldDecision | DemandDay,
) -> int:
    if isinstance(record, DemandDay):
        return record.day_ms
    if isinstance(record, HoldDecision):
        return record.decided_ms
    if isinstance(record, StockLevel):
        return record.updated_ms
    if isinstance(record, SalesWindow):
        return record.window_start_ms
    if isinstance(record, PurchaseOrder):
        return record.opened_ms
    return record.raised_ms
