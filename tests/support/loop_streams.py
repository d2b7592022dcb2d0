"""Generated streams in which a supplier closes the loop: between rounds of generated
events (with cart holds, no self-restocking), the independent model says which purchase
orders are open and restocks carrying their ``po_id`` receive most of them (the rest
fall overdue)."""

from __future__ import annotations

import hashlib

import orjson

from generators.events import EventGenerator, GeneratorConfig, Message
from inventory.core.times import format_ms
from tests.support.model import Msg, expected_tables

NEVER_FUTURE = 10**15  # the model pass ignores the future bound (the real run applies it)


def stream_with_receipts(
    config: GeneratorConfig,
    events: int,
    *,
    lateness_ms: int,
    lead_ms: int,
    grace_ms: int,
    rounds: int = 4,
) -> list[Message]:
    """``events`` generated messages in ``rounds``, each but the last followed by the
    supplier's restocks for about two in three of the purchase orders then open."""
    generator = EventGenerator(config)
    out: list[Message] = []
    received: set[str] = set()
    for round_ in range(rounds):
        out.extend(generator.messages(events // rounds))
        if round_ == rounds - 1:
            break
        msgs = [Msg(m.key, m.value, 0, n, NEVER_FUTURE) for n, m in enumerate(out)]
        expected = expected_tables(
            msgs, lateness_ms, NEVER_FUTURE, default_lead_ms=lead_ms, grace_ms=grace_ms
        )
        now_ms = config.start_ms + int(len(out) * 1000 / config.rate)
        for po_id, (wh, sku, status, quantity, *_) in sorted(expected.orders.items()):
            if (
                status not in ("open", "partially_received", "overdue")
                or po_id in received
                or hashlib.sha1(po_id.encode()).digest()[0] % 3 == 0
            ):
                continue
            received.add(po_id)
            restock = {
                "event_id": f"sup-{po_id}",
                "event_type": "restock",
                "sku": sku,
                "warehouse_id": wh,
                "quantity": quantity,
                "occurred_at": format_ms(now_ms),
                "po_id": po_id,
            }
            out.append(Message(f"{wh}:{sku}".encode(), orjson.dumps(restock)))
            generator.receive(wh, sku, quantity)
    return out
