"""Threshold crossings of on-hand, one alert per crossing (contracts.md section 4).

Bands: ``ok`` (on-hand > threshold), ``low`` (0 < on-hand <= threshold), ``out``
(on-hand <= 0). Alerts fire on band changes, evaluated after every accepted event in
the key's arrival order:

* ok -> low: ``low_stock``; ok/low -> out: ``out_of_stock``;
* low/out -> ok: ``back_in_stock``; out -> low: none (still low, already reordered).

A key starts in ``ok``. ``low_stock``/``out_of_stock`` carry a reorder request up to the
SKU's target: ``reorder_quantity = max(target_stock - on_hand, 1)``.
``alert_id`` is derived from (warehouse, sku, kind, event_id), so a replay re-creates the
same ids and the ``alerts`` table (ReplacingMergeTree by ``alert_id``) does not change.
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


def alert_id(warehouse_id: str, sku: str, kind: str, event_id: str) -> str:
    raw = "\x1f".join((warehouse_id, sku, kind, event_id)).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def crossing(
    previous_band: str, on_hand: int, policy: ProductPolicy, event: Event
) -> tuple[str, Alert | None]:
    """The key's new band and the alert its change raises, if any."""
    new_band = band(on_hand, policy.threshold)
    kind = _KIND.get((previous_band, new_band))
    if kind is None:
        return new_band, None
    reorder = max(policy.target_stock - on_hand, 1) if kind != "back_in_stock" else 0
    return new_band, Alert(
        alert_id=alert_id(event.warehouse_id, event.sku, kind, event.event_id),
        kind=kind,
        warehouse_id=event.warehouse_id,
        sku=event.sku,
        on_hand=on_hand,
        threshold=policy.threshold,
        reorder_quantity=reorder,
        event_id=event.event_id,
        raised_ms=event.occurred_ms,
    )
