"""Kafka-like messages for decoder tests: a valid event and the message wrapper."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import strategies as st

TS = 1_795_000_000_000  # Kafka timestamp of the test messages


class FakeMsg:
    def __init__(self, value: bytes | None, key: bytes | None = b"k", offset: int = 0) -> None:
        self.key, self.value, self.topic = key, value, "inventory.events"
        self.partition, self.offset, self.timestamp = 0, offset, (1, TS)


GOOD: dict[str, Any] = {
    "event_id": "e-1",
    "event_type": "sale",
    "sku": "SKU-1",
    "warehouse_id": "WH-1",
    "quantity": 2,
    "occurred_at": "2026-11-18T11:05:40.123Z",  # TS - 60 s + 123 ms
    "unit_price": 9.5,
    "order_id": "o-1",
}


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-valid events with 0-2 fields replaced by anything and maybe one removed."""
    obj = dict(draw(valid_events))
    for name in draw(st.lists(st.sampled_from(sorted(field_values)), max_size=2)):
        obj[name] = draw(field_values[name])
    if draw(st.booleans()) and draw(st.booleans()):
        obj.pop(draw(st.sampled_from(sorted(obj))))
    return obj


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=70),
)
field_values = {
    "event_id": st.one_of(st.text(min_size=0, max_size=130), json_scalars),
    "event_type": st.one_of(
        st.sampled_from(
            [
                "sale",
                "return",
                "restock",
                "adjustment",
                "count",
                "reserve",
                "release",
                "cancel",
                "Sale",
                "",
            ]
        ),
        json_scalars,
    ),
    "sku": st.one_of(st.from_regex(r"[A-Za-z0-9._-]{0,66}", fullmatch=True), json_scalars),
    "warehouse_id": st.one_of(
        st.from_regex(r"[A-Za-z0-9._ -]{0,66}", fullmatch=True), json_scalars
    ),
    "quantity": st.one_of(
        st.integers(min_value=-5, max_value=5),
        st.integers(min_value=-(2**40), max_value=2**40),
        json_scalars,
    ),
    "occurred_at": st.one_of(
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.isoformat()),
        st.from_regex(
            r"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
            r"(\.[0-9]{1,9})?(Z|[+-][01][0-9]:[0-5][0-9])",
            fullmatch=True,
        ),
        json_scalars,
    ),
    "unit_price": st.one_of(st.floats(min_value=-1, max_value=2e12, allow_nan=False), json_scalars),
    "order_id": st.one_of(st.text(max_size=130), json_scalars),
    "reservation_id": st.one_of(st.text(max_size=130), json_scalars),
    "po_id": st.one_of(st.text(max_size=130), json_scalars),
}
field_values["expires_at"] = field_values["occurred_at"]
valid_events = st.fixed_dictionaries(
    {
        "event_id": st.text(min_size=1, max_size=128),
        "event_type": st.sampled_from(
            ["sale", "return", "restock", "adjustment", "count", "reserve", "release", "cancel"]
        ),
        "sku": st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True),
        "warehouse_id": st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True),
        "quantity": st.integers(min_value=-3, max_value=3),
        "occurred_at": st.datetimes(
            min_value=datetime(2000, 1, 2),
            max_value=datetime(2100, 1, 1),
            timezones=st.timezones(),
        ).map(lambda d: d.isoformat()),
    },
    optional={
        "unit_price": st.floats(min_value=0, max_value=1e6),
        "order_id": st.text(max_size=128),
        "reservation_id": st.text(max_size=128),
        "expires_at": st.datetimes(
            min_value=datetime(2000, 1, 2),
            max_value=datetime(2100, 1, 1),
            timezones=st.timezones(),
        ).map(lambda d: d.isoformat()),
        "po_id": st.text(max_size=128),
    },
)
