"""Threshold crossings of on-hand, one alert per crossing (contracts.md section 4).

Bands: ``ok`` (on-hand > threshold), ``low`` (0 < on-hand <= threshold), ``out``
(on-hand <= 0). Alerts fire on band changes, evaluated after every accepted event in
the key's arrival order:

* ok -> low: ``low_stock``; ok/low -> out: ``out_of_stock``;
* low/out -> ok: ``back_in_stock``; out -> low: none (still low, already reordered).

A key starts in ``ok``. Reorder requests follow the inventory position, not the band
(:mod:`dataflows.per_key.orders`): a crossing's alert requests nothing until the request
step adds one. ``alert_id`` is derived from (warehouse, sku, kind, event_id), so a replay
re-creates the same ids and the ``alerts`` table (ReplacingMergeTree by ``alert_id``)
does not change.
"""

from __future__ import annotations

import hashlib

from inventory.core.records import Alert, Event, ProductPolicy

OK, LOW, OUT = "ok", "low", "out"
_KIND = {
    (OK, LOW): "low_stock",
    (OK, OUT): "out_of_stock",
    (LOW, OUT): "out_of_stock",
    (LOW, OK): "back_in_stock",
    (OUT, OK): "back_in_stock",
}


def band(on_hand: int, threshold: int) -> str:
    if on_hand <= 0:
        return OUT
    return LOW if on_hand <= threshold else OK


def alert_id(warehouse_id: str, sku: str, kind: str, event_id: str, po_id: str = "") -> str:
    """BLAKE2b-128 of the fields joined by U+001F, in hex; a purchase order's deadline
    alerts add its ``po_id`` (several can fall due at one event)."""
    fields = (
        (warehouse_id, sku, kind, event_id, po_id) if po_id else (warehouse_id, sku, kind, event_id)
    )
    return hashlib.blake2b("\x1f".join(fields).encode(), digest_size=16).hexdigest()


def event_alert_id(event: Event, kind: str, po_id: str = "") -> str:
    """The alert id of ``kind`` raised by ``event`` (on its key), of ``po_id`` if given."""
    return alert_id(event.warehouse_id, event.sku, kind, event.event_id, po_id)


def crossing(
    previous_band: str, on_hand: int, policy: ProductPolicy, event: Event
) -> tuple[str, Alert | None]:
    """The key's new band and the alert its change raises, if any."""
    new_band = band(on_hand, policy.threshold)
    kind = _KIND.get((previous_band, new_band))
    if kind is None:
        return new_band, None
    return new_band, Alert(
        alert_id=event_alert_id(event, kind),
        kind=kind,
        warehouse_id=event.warehouse_id,
        sku=event.sku,
        on_hand=on_hand,
        threshold=policy.threshold,
        reorder_quantity=0,
        event_id=event.event_id,
        raised_ms=event.occurred_ms,
    )
