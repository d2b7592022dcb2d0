"""A supplier simulator: answers the flow's reorder requests with deliveries.

It reads alerts (topic ``inventory.alerts``); each reorder request (``reorder_quantity``
> 0 with a ``po_id``) is an order. After the order's lead time (``expected_at`` -
``raised_at``) divided by ``speedup``, measured on the injected clock from when the
request was read, it delivers: a ``restock`` of the requested quantity carrying the
``po_id``, stamped with the clock's time. The restock's ``event_id`` is derived from the
``po_id``, so an alert read twice (at-least-once) delivers once: the flow deduplicates
the repeat.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from generators.events import Message
from inventory.core.times import format_ms, to_ms

logger = logging.getLogger(__name__)


@dataclass(order=True)
class Delivery:
    due_ms: int
    po_id: str = field(compare=True)
    warehouse_id: str = field(compare=False)
    sku: str = field(compare=False)
    quantity: int = field(compare=False)


def _ms(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        return to_ms(datetime.fromisoformat(text))
    except ValueError:
        return None


class Supplier:
    """Orders taken and deliveries due.

    :arg speedup: lead times are divided by this (3600: an hour of lead time is a second).
    :arg clock: epoch seconds (``time.time``); tests inject their own.
    """

    def __init__(self, speedup: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be > 0")
        self.speedup = speedup
        self._clock = clock
        self._pending: list[Delivery] = []
        self._seen: set[str] = set()
        self.taken = 0  # orders taken so far
        self.delivered = 0

    def take(self, alerts: Iterable[bytes | dict[str, object]]) -> int:
        """Take the reorder requests among ``alerts`` (JSON values or dicts); return how
        many new orders that made. Anything else, or an order already taken, is skipped."""
        now_ms = int(self._clock() * 1000)
        taken = 0
        for raw in alerts:
            alert = orjson.loads(raw) if isinstance(raw, bytes) else raw
            po_id = alert.get("po_id")
            quantity = alert.get("reorder_quantity")
            if not isinstance(po_id, str) or not isinstance(quantity, int) or quantity <= 0:
                continue
            if po_id in self._seen:
                continue
            raised, expected = _ms(alert.get("raised_at")), _ms(alert.get("expected_at"))
            lead_ms = max(expected - raised, 0) if raised is not None and expected else 0
            self._seen.add(po_id)
            delivery = Delivery(
                now_ms + int(lead_ms / self.speedup),
                po_id,
                str(alert.get("warehouse_id")),
                str(alert.get("sku")),
                quantity,
            )
            heapq.heappush(self._pending, delivery)
            taken += 1
        self.taken += taken
        return taken

    @property
    def pending(self) -> int:
        return len(self._pending)

    def due(self, *, everything: bool = False) -> list[Delivery]:
        """Deliveries due by the clock (all of them with ``everything``), in due order."""
        now_ms = int(self._clock() * 1000)
        out = []
        while self._pending and (everything or self._pending[0].due_ms <= now_ms):
            out.append(heapq.heappop(self._pending))
        self.delivered += len(out)
        return out

    def restocks(self, deliveries: Iterable[Delivery]) -> list[Message]:
        """The ``restock`` events of ``deliveries``, stamped now."""
        occurred_at = format_ms(int(self._clock() * 1000))
        return [
            Message(
                f"{d.warehouse_id}:{d.sku}".encode(),
                orjson.dumps(
                    {
                        "event_id": f"sup-{d.po_id}",
                        "event_type": "restock",
                        "sku": d.sku,
                        "warehouse_id": d.warehouse_id,
                        "quantity": d.quantity,
                        "occurred_at": occurred_at,
                        "po_id": d.po_id,
                    }
                ),
            )
            for d in deliveries
        ]
