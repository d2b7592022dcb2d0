"""Building ``Event`` records for unit tests."""

from __future__ import annotations

from inventory.core.contract import stock_delta
from inventory.core.records import Event, Source

T0 = 1_795_000_020_000 - 1_795_000_020_000 % 60_000  # a window boundary


def ev(
    event_id: str,
    kind: str,
    qty: int,
    at_s: float,
    price: float | None = 2.5,
    order: str | None = None,
    *,
    reservation: str | None = None,
    expires_s: float | None = None,
    po: str | None = None,
) -> Event:
    return Event(
        event_id=event_id,
        event_type=kind,
        sku="S",
        warehouse_id="W",
        quantity=qty,
        delta=stock_delta(kind, qty),
        occurred_ms=T0 + int(at_s * 1000),
        unit_price=price if kind == "sale" else None,
        order_id=order,
        source=Source("t", 0, 0, T0),
        key=None,
        payload=b"{}",
        reservation_id=reservation,
        expires_ms=None if expires_s is None else T0 + int(expires_s * 1000),
        po_id=po,
    )
