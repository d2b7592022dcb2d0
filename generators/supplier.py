"""A supplier simulator: answers the flow's reorder requests with deliveries.

It reads alerts (topic ``inventory.alerts``); each reorder request (``reorder_quantity``
> 0 with a ``po_id``) is an order. After the order's lead time (``expected_at`` -
``raised_at``) divided by ``speedup``, measured on the injected clock from when the
request was read, it delivers: a ``restock`` of the requested quantity carrying the
``po_id``, stamped with the clock's time. The restock's ``event_id`` is derived from the
``po_id``, so an alert read twice (at-least-once) delivers once: the flow deduplicates
the repeat.

A :class:`SupplierBehaviour` makes it an unreliable supplier (all off by default): lead
times spread around the ordered one (lognormal, coefficient of variation
``lead_time_cv``), a ``late_share`` of orders a further 0 to ``late_hours`` late, and a
``short_share`` delivered short (``short_fill`` to 100 % of the quantity, the rest never
comes). Each order's fate is drawn from its ``po_id`` and the seed, so it is the same
however often the request is read (and in ``inventory backtest``).
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from generators.message import Message
from inventory.core.times import format_ms, to_ms

logger = logging.getLogger(__name__)


@dataclass(order=True)
class Delivery:
    due_ms: int
    po_id: str = field(compare=True)
    warehouse_id: str = field(compare=False)
    sku: str = field(compare=False)
    quantity: int = field(compare=False)


@dataclass(frozen=True)
class SupplierBehaviour:
    """How a supplier delivers (module doc); the defaults deliver on time and in full."""

    lead_time_cv: float = 0.0
    late_share: float = 0.0
    late_hours: float = 48.0
    short_share: float = 0.0
    short_fill: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.lead_time_cv < 0 or self.late_hours < 0:
            raise ValueError("lead time cv and late hours must be >= 0")
        if not (0 <= self.late_share <= 1 and 0 <= self.short_share <= 1):
            raise ValueError("late and short shares must be in [0, 1]")
        if not 0 < self.short_fill <= 1:
            raise ValueError("short fill must be in (0, 1]")

    def delivery(self, po_id: str, lead_ms: int, quantity: int) -> tuple[int, int]:
        """``(actual lead time ms, units delivered)`` of the order ``po_id``."""
        rng = random.Random(f"supplier:{self.seed}:{po_id}")
        lead = float(lead_ms)
        if self.lead_time_cv:
            sigma = math.sqrt(math.log1p(self.lead_time_cv**2))  # lognormal of mean lead
            lead *= rng.lognormvariate(-sigma * sigma / 2, sigma)
        if rng.random() < self.late_share:
            lead += rng.uniform(0, self.late_hours) * 3_600_000
        units = quantity
        if rng.random() < self.short_share:
            units = max(math.floor(quantity * rng.uniform(self.short_fill, 1.0)), 1)
        return round(lead), units


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
    :arg behaviour: lead-time spread, late and short deliveries (none by default).
    :arg since_ms: requests raised before this are not this supplier's (skipped).
    """

    def __init__(
        self,
        speedup: float = 1.0,
        clock: Callable[[], float] = time.time,
        behaviour: SupplierBehaviour | None = None,
        since_ms: int = 0,
    ) -> None:
        if speedup <= 0:
            raise ValueError("speedup must be > 0")
        self.speedup = speedup
        self.behaviour = behaviour or SupplierBehaviour()
        self.since_ms = since_ms
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
            if self.since_ms and (raised is None or raised < self.since_ms):
                continue
            lead_ms = max(expected - raised, 0) if raised is not None and expected else 0
            self._seen.add(po_id)
            lead_ms, units = self.behaviour.delivery(po_id, lead_ms, quantity)
            delivery = Delivery(
                now_ms + int(lead_ms / self.speedup),
                po_id,
                str(alert.get("warehouse_id")),
                str(alert.get("sku")),
                units,
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
