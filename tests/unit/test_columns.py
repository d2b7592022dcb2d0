"""The columnar insert (sinks/columns.py) holds exactly the values of the row path
(sinks/rows.py), record type by record type, edge values included."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.clickhouse.error_codes import ColumnValueError, is_data_error
from inventory.core.records import (
    Alert,
    DeadLetter,
    Event,
    PurchaseOrder,
    SalesWindow,
    Source,
    StockLevel,
)
from sinks.columns import arrow_table
from sinks.rows import TABLES, Row

ms = st.integers(-(2**40), 2**44)  # before 1970 and after 2299 too: the clamps
sentinel_ms = st.one_of(st.just(-1), ms)
i64 = st.integers(-(2**62), 2**62)
units = st.integers(-(2**40), 2**40)  # stock: its days of cover stay storable
text = st.text(max_size=8)
opt_text = st.none() | text
version = st.integers(0, 2**108)
sources = st.builds(Source, text, st.integers(-1, 2**31 - 1), st.integers(-1, 2**62), ms, text)

RECORDS: dict[type, st.SearchStrategy[Any]] = {
    Event: st.builds(
        Event,
        text,
        text,
        text,
        text,
        i64,
        i64,
        ms,
        st.none() | st.floats(0, 1e12),
        opt_text,
        sources,
        st.none() | st.binary(max_size=4),
        st.binary(max_size=4),
        opt_text,
        st.none() | ms,
        opt_text,
    ),
    StockLevel: st.builds(
        StockLevel,
        text,
        text,
        units,
        version,
        ms,
        text,
        text,
        units,
        units,
        sentinel_ms,
        units,
        units,
        text,
        st.just(0.0) | st.floats(0.01, 1e6),
        st.floats(0, 1e3),
    ),
    DeadLetter: st.builds(
        DeadLetter,
        sources,
        st.none() | st.binary(max_size=4),
        st.none() | st.binary(max_size=4),
        st.sampled_from(["invalid JSON: x", "missing field(s): sku", "other"]),
    ),
    SalesWindow: st.builds(
        SalesWindow,
        text,
        text,
        ms,
        ms,
        i64,
        st.integers(0, 10**30),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**64 - 1),
    ),
    Alert: st.builds(Alert, text, text, text, text, i64, i64, i64, text, ms, text, sentinel_ms),
    PurchaseOrder: st.builds(
        PurchaseOrder,
        text,
        text,
        text,
        st.sampled_from(["open", "overdue", "received", "cancelled"]),
        st.integers(0, 2**40),
        ms,
        ms,
        sentinel_ms,
        st.integers(0, 2**40),
        text,
        text,
        version,
        st.integers(0, 2**40),
        sentinel_ms,
    ),
}


def as_row_value(value: Any) -> Any:
    """A value read back from Arrow as the row path gives it."""
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, bytes) and len(value) == 16:
        return value  # compared below as an integer where the row has one
    return value


def same(arrow_value: Any, row_value: Any) -> bool:
    if isinstance(arrow_value, bytes) and isinstance(row_value, int):
        return int.from_bytes(arrow_value, "little") == row_value
    if isinstance(arrow_value, bytes) and isinstance(row_value, str):
        return arrow_value == row_value.encode()
    if isinstance(row_value, Decimal):
        return bool(arrow_value == row_value)
    return bool(as_row_value(arrow_value) == row_value)


@pytest.mark.parametrize("kind", list(RECORDS), ids=lambda kind: kind.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_columns_hold_the_rows_values(kind: type, data: st.DataObject) -> None:
    records: list[Row] = data.draw(st.lists(RECORDS[kind], min_size=1, max_size=6))
    _, columns, to_row = TABLES[kind]
    table = arrow_table(records)
    assert table.column_names == list(columns)
    for record, got in zip(records, table.to_pylist(), strict=True):
        expected = to_row(record)
        for name, row_value in zip(columns, expected, strict=True):
            assert same(got[name], row_value), (name, got[name], row_value)


def test_a_value_beyond_its_column_is_a_data_error() -> None:
    window = SalesWindow("W", "S", 0, 1, 1, 1, 2**33, 1)  # orders is UInt32
    with pytest.raises(ColumnValueError) as refused:
        arrow_table([window])
    assert is_data_error(refused.value)
    level = StockLevel("W", "S", 2**63 - 1, 1, 0, "e", reserved=-1)  # available overflows
    with pytest.raises(ColumnValueError):
        arrow_table([level])
    with pytest.raises(OverflowError) as overflow:  # passes through as Arrow raises it
        arrow_table([StockLevel("W", "S", 2**64, 1, 0, "e")])
    assert is_data_error(overflow.value)


def test_uint128_versions_are_little_endian_16_bytes() -> None:
    level = StockLevel("W", "S", 1, (1_795_000_000_000 << 64) | 7, 0, "e")
    column = arrow_table([level]).column("version")
    assert column.type == pa.binary(16)
    assert int.from_bytes(column[0].as_py(), "little") == level.version
