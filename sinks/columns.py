"""Records as Arrow tables, one column at a time: the sink's columnar insert.

Each table holds exactly the values :mod:`sinks.rows` gives row by row (a test holds the
two to each other): the same columns, timestamps clamped to what ``DateTime64(3)``
stores, ``UInt128`` versions as 16 little-endian bytes (Arrow has no 128-bit integer;
ClickHouse reads ``FIXED_SIZE_BINARY(16)`` into ``UInt128``), revenue as
``Decimal128(38, 4)``. Building a column is one list comprehension and one C conversion,
instead of a tuple per row and a per-value encoder.

Raises :class:`~inventory.clickhouse.error_codes.ColumnValueError` (a data error: the
sink bisects to the row) when a value does not fit its column's Arrow type;
``OverflowError`` and ``UnicodeEncodeError`` (data errors too) pass through as Arrow
raises them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from inventory.clickhouse.error_codes import ColumnValueError
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
    StockLevel,
)
from sinks.rows import (
    ALERT_COLUMNS,
    DEAD_LETTER_COLUMNS,
    DECISION_COLUMNS,
    DEMAND_COLUMNS,
    EVENT_COLUMNS,
    MAX_STORED_MS,
    ORDER_COLUMNS,
    SALES_COLUMNS,
    STOCK_COLUMNS,
    Row,
    stored_ms,
)

_MS = pa.timestamp("ms", tz="UTC")
_U128 = pa.binary(16)
_REVENUE = pa.decimal128(38, 4)
_STR = pa.string()
_BIN = pa.binary()
_I64 = pa.int64()
_F64 = pa.float64()


def _ms(values: list[int | None], *, clamp: bool = True) -> pa.Array:
    """Epoch ms (None: null) as ``timestamp[ms, UTC]``, clamped to 1970..2299."""
    array = pa.array(values, _I64)
    if clamp:
        array = pc.min_element_wise(
            pc.max_element_wise(array, 0, skip_nulls=False), MAX_STORED_MS, skip_nulls=False
        )
    return array.cast(_MS)


def _u128(values: list[int]) -> pa.Array:
    return pa.array([v.to_bytes(16, "little") for v in values], _U128)


def _table(columns: Sequence[str], arrays: list[pa.Array]) -> pa.Table:
    return pa.Table.from_arrays(arrays, names=list(columns))


def event_table(events: Sequence[Event]) -> pa.Table:
    sources = [e.source for e in events]
    return _table(
        EVENT_COLUMNS,
        [
            pa.array([e.event_id for e in events], _STR),
            pa.array([e.event_type for e in events], _STR),
            pa.array([e.sku for e in events], _STR),
            pa.array([e.warehouse_id for e in events], _STR),
            pa.array([e.quantity for e in events], _I64),
            pa.array([e.delta for e in events], _I64),
            pa.array([e.unit_price for e in events], _F64),
            pa.array([e.order_id for e in events], _STR),
            _ms([e.occurred_ms for e in events], clamp=False),
            _ms([s.timestamp_ms for s in sources]),
            pa.array([s.topic for s in sources], _STR),
            pa.array([s.topic_id for s in sources], _STR),
            pa.array([s.partition for s in sources], pa.int32()),
            pa.array([s.offset for s in sources], _I64),
            pa.array([e.reservation_id for e in events], _STR),
            _ms([e.expires_ms for e in events], clamp=False),
            pa.array([e.po_id for e in events], _STR),
            pa.array([e.oversold for e in events], pa.uint32()),
        ],
    )


def _negative_as_null(values: list[int]) -> list[int | None]:
    """-1 (none yet) as null, for the Nullable timestamp columns."""
    return [v if v >= 0 else None for v in values]


def stock_table(levels: Sequence[StockLevel]) -> pa.Table:
    on_hand = pa.array([s.on_hand for s in levels], _I64)
    reserved = pa.array([s.reserved for s in levels], _I64)
    return _table(
        STOCK_COLUMNS,
        [
            pa.array([s.warehouse_id for s in levels], _STR),
            pa.array([s.sku for s in levels], _STR),
            on_hand,
            _u128([s.version for s in levels]),
            _ms([s.updated_ms for s in levels]),
            pa.array([s.last_event_id for s in levels], _STR),
            pa.array([s.lineage for s in levels], _STR),
            reserved,
            pc.subtract_checked(on_hand, reserved),
            pa.array([s.on_order for s in levels], _I64),
            _ms(_negative_as_null([s.next_expected_ms for s in levels])),
            pa.array([s.reorder_point for s in levels], _I64),
            pa.array([s.order_up_to for s in levels], _I64),
            pa.array([s.reorder_basis for s in levels], _STR),
            pa.array([s.demand_per_day for s in levels], _F64),
            pa.array([s.lead_time_days for s in levels], _F64),
            pa.array([s.days_of_cover for s in levels], _F64),
            _ms(  # computed: may exceed Int64 before the clamp
                [None if (at := s.projected_stockout_ms) is None else stored_ms(at) for s in levels]
            ),
            pa.array([s.oversold for s in levels], pa.uint64()),
            pa.array([s.forecast_version for s in levels], pa.uint32()),
        ],
    )


def dead_letter_table(letters: Sequence[DeadLetter]) -> pa.Table:
    sources = [d.source for d in letters]
    return _table(
        DEAD_LETTER_COLUMNS,
        [
            pa.array([s.topic for s in sources], _STR),
            pa.array([s.topic_id for s in sources], _STR),
            pa.array([s.partition for s in sources], pa.int32()),
            pa.array([s.offset for s in sources], _I64),
            pa.array([d.key for d in letters], _BIN),
            pa.array([d.payload or b"" for d in letters], _BIN),
            pa.array([d.error for d in letters], _STR),
            pa.array([reason_code(d.error) for d in letters], _STR),
            _ms([s.timestamp_ms for s in sources]),
        ],
    )


def sales_table(windows: Sequence[SalesWindow]) -> pa.Table:
    return _table(
        SALES_COLUMNS,
        [
            pa.array([w.warehouse_id for w in windows], _STR),
            pa.array([w.sku for w in windows], _STR),
            _ms([w.window_start_ms for w in windows], clamp=False),
            _ms([w.window_end_ms for w in windows], clamp=False),
            pa.array([w.units_sold for w in windows], _I64),
            pa.array([Decimal(w.revenue_e4).scaleb(REVENUE_EXPONENT) for w in windows], _REVENUE),
            pa.array([w.orders for w in windows], pa.uint32()),
            pa.array([w.version for w in windows], pa.uint64()),
        ],
    )


def alert_table(alerts: Sequence[Alert]) -> pa.Table:
    return _table(
        ALERT_COLUMNS,
        [
            pa.array([a.alert_id for a in alerts], _STR),
            pa.array([a.kind for a in alerts], _STR),
            pa.array([a.warehouse_id for a in alerts], _STR),
            pa.array([a.sku for a in alerts], _STR),
            pa.array([a.on_hand for a in alerts], _I64),
            pa.array([a.threshold for a in alerts], _I64),
            pa.array([a.reorder_quantity for a in alerts], _I64),
            pa.array([a.event_id for a in alerts], _STR),
            _ms([a.raised_ms for a in alerts], clamp=False),
            pa.array([a.po_id for a in alerts], _STR),
            _ms(_negative_as_null([a.expected_ms for a in alerts])),
            pa.array([a.reorder_point for a in alerts], _I64),
        ],
    )


def order_table(orders: Sequence[PurchaseOrder]) -> pa.Table:
    return _table(
        ORDER_COLUMNS,
        [
            pa.array([o.po_id for o in orders], _STR),
            pa.array([o.warehouse_id for o in orders], _STR),
            pa.array([o.sku for o in orders], _STR),
            pa.array([o.status for o in orders], _STR),
            pa.array([o.quantity for o in orders], _I64),
            _ms([o.opened_ms for o in orders]),
            _ms([o.expected_ms for o in orders]),
            _ms(_negative_as_null([o.received_ms for o in orders])),
            pa.array([o.received_quantity for o in orders], _I64),
            pa.array([o.receipt_event_id for o in orders], _STR),
            pa.array([o.alert_id for o in orders], _STR),
            _u128([o.version for o in orders]),
            pa.array([o.cancelled_quantity for o in orders], _I64),
            pa.array([o.remaining for o in orders], _I64),
            _ms(_negative_as_null([o.closed_ms for o in orders])),
        ],
    )


def decision_table(decisions: Sequence[HoldDecision]) -> pa.Table:
    return _table(
        DECISION_COLUMNS,
        [
            pa.array([d.reservation_id for d in decisions], _STR),
            pa.array([d.warehouse_id for d in decisions], _STR),
            pa.array([d.sku for d in decisions], _STR),
            pa.array([d.event_id for d in decisions], _STR),
            pa.array([d.request for d in decisions], _STR),
            pa.array([d.decision for d in decisions], _STR),
            pa.array([d.reason for d in decisions], _STR),
            pa.array([d.quantity for d in decisions], _I64),
            pa.array([d.available for d in decisions], _I64),
            _ms(_negative_as_null([d.expires_ms for d in decisions])),
            _ms([d.decided_ms for d in decisions]),
            _u128([d.version for d in decisions]),
            pa.array([d.backordered for d in decisions], _I64),
            _ms(_negative_as_null([d.ships_ms for d in decisions])),
        ],
    )


def demand_table(days: Sequence[DemandDay]) -> pa.Table:
    return _table(
        DEMAND_COLUMNS,
        [
            pa.array([d.warehouse_id for d in days], _STR),
            pa.array([d.sku for d in days], _STR),
            pa.array([d.day_ms // 86_400_000 for d in days], pa.date32()),
            pa.array([d.sold for d in days], _I64),
            pa.array([d.refused for d in days], _I64),
            pa.array([d.out_of_stock_ms for d in days], _I64),
            pa.array([d.lost for d in days], _F64),
            pa.array([d.demand for d in days], _F64),
        ],
    )


COLUMNAR: dict[type, Callable[[Any], pa.Table]] = {
    Event: event_table,
    StockLevel: stock_table,
    DeadLetter: dead_letter_table,
    SalesWindow: sales_table,
    Alert: alert_table,
    PurchaseOrder: order_table,
    HoldDecision: decision_table,
    DemandDay: demand_table,
}


def arrow_table(records: Sequence[Row]) -> pa.Table:
    """The Arrow table of ``records`` (all of one type); raises ColumnValueError for a
    value its column's type cannot hold."""
    try:
        return COLUMNAR[type(records[0])](records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ColumnValueError(str(exc)) from exc
