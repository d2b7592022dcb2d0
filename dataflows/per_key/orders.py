"""Replenishment per (warehouse_id, sku): requests on the inventory position and the
life of purchase orders (docs/semantics.md, "Replenishment"; contracts.md, v5).

Pure functions of a key's accepted events in arrival order, over :class:`OrderBook` (the
key's open purchase orders, oldest first, and whether its position was above the reorder
point after the previous event). Every change returns the purchase order's new row,
versioned by the key's stock version at that event.

* :meth:`OrderBook.settle` - this event's receipt (a ``restock``) or cancellation (a
  ``cancel``), then the deadlines (``reorder_expired``, ``reorder_overdue``).
* :meth:`OrderBook.request` - a request when the position is at or below the reorder
  point and was above it after the previous event, or an order closed at this event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from msgspec.structs import replace

from dataflows.per_key.demand import DemandRules
from inventory.core.records import Alert, Event, ProductPolicy, PurchaseOrder

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class OrderRules:
    """The flow's replenishment settings.

    :arg grace_ms: ``reorder_overdue`` this long after ``expected_at``.
    :arg expiry_ms: an order not fully received this long after ``expected_at`` expires.
    :arg receipts_need_po_id: a restock without a matching ``po_id`` receives nothing.
    :arg historical: a backfill: requests open ``historical`` orders, never on order.
    :arg demand: how ``demand`` SKUs compute their reorder points.
    """

    grace_ms: int = 24 * HOUR_MS
    expiry_ms: int = 168 * HOUR_MS
    receipts_need_po_id: bool = False
    historical: bool = False
    demand: DemandRules = field(default_factory=DemandRules)


def po_id_for(alert: Alert) -> str:
    return f"po-{alert.alert_id[:24]}"


@dataclass(slots=True)
class Settled:
    """What settling one event did: the changed orders' rows, the deadline alerts, and
    whether an order closed (received, cancelled, expired)."""

    changed: list[PurchaseOrder] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    closed: bool = False


@dataclass(slots=True)
class OrderBook:
    """A key's open purchase orders (oldest first) and whether its position was above
    the reorder point after the previous accepted event (``None``: not known yet)."""

    open: list[PurchaseOrder] = field(default_factory=list)
    above: bool | None = True

    @property
    def on_order(self) -> int:
        return sum(po.remaining for po in self.open)

    def oldest(self) -> PurchaseOrder | None:
        """The oldest open order: the earliest ``opened_at``, then the smallest ``po_id``
        (not the first opened in arrival order: a late event may open an older one)."""
        if not self.open:
            return None
        return min(self.open, key=_age)

    def settle(
        self,
        event: Event,
        *,
        newest_ms: int,
        on_hand: int,
        policy: ProductPolicy,
        rules: OrderRules,
        version: int,
        alert_id: AlertId,
    ) -> Settled:
        """Apply this event's receipt or cancellation, then the deadlines."""
        done = Settled()
        if event.event_type == "restock" and self.open:
            self._receive(event, rules, version, done)
        elif event.event_type == "cancel" and self.open:
            self._cancel(event, version, done)
        if self.open:
            self._deadlines(
                event,
                newest_ms=newest_ms,
                on_hand=on_hand,
                policy=policy,
                rules=rules,
                version=version,
                alert_id=alert_id,
                done=done,
            )
        return done

    def _receive(self, event: Event, rules: OrderRules, version: int, done: Settled) -> None:
        po = self._named(event.po_id)
        if po is None and event.po_id is None and not rules.receipts_need_po_id:
            po = self.oldest()
        if po is None:
            return  # a plain restock
        received = po.received_quantity + event.quantity
        full = received >= po.quantity - po.cancelled_quantity
        status = (
            "received" if full else ("overdue" if po.status == "overdue" else "partially_received")
        )
        self._change(
            po,
            replace(
                po,
                status=status,
                received_ms=event.occurred_ms,
                received_quantity=received,
                receipt_event_id=event.event_id,
                closed_ms=event.occurred_ms if full else -1,
                version=version,
            ),
            done,
        )

    def _cancel(self, event: Event, version: int, done: Settled) -> None:
        po = self._named(event.po_id)
        if po is None:
            return  # names no open order of this key: nothing changes
        remaining = po.remaining
        cancelled = po.cancelled_quantity + (min(event.quantity, remaining) or remaining)
        closed = po.quantity - po.received_quantity - cancelled <= 0
        self._change(
            po,
            replace(
                po,
                status="cancelled" if closed else po.status,
                cancelled_quantity=cancelled,
                closed_ms=event.occurred_ms if closed else -1,
                version=version,
            ),
            done,
        )

    def _deadlines(
        self,
        event: Event,
        *,
        newest_ms: int,
        on_hand: int,
        policy: ProductPolicy,
        rules: OrderRules,
        version: int,
        alert_id: AlertId,
        done: Settled,
    ) -> None:
        for po in list(self.open):
            if newest_ms >= po.expected_ms + rules.expiry_ms:
                kind, late = (
                    "reorder_expired",
                    replace(po, status="expired", closed_ms=event.occurred_ms, version=version),
                )
            elif po.status != "overdue" and newest_ms >= po.expected_ms + rules.grace_ms:
                kind, late = "reorder_overdue", replace(po, status="overdue", version=version)
            else:
                continue
            done.alerts.append(
                Alert(
                    alert_id=alert_id(event, kind, po.po_id),
                    kind=kind,
                    warehouse_id=event.warehouse_id,
                    sku=event.sku,
                    on_hand=on_hand,
                    threshold=policy.threshold,
                    reorder_quantity=0,
                    event_id=event.event_id,
                    raised_ms=event.occurred_ms,
                    po_id=po.po_id,
                    expected_ms=po.expected_ms,
                )
            )
            self._change(po, late, done)

    def _named(self, po_id: str | None) -> PurchaseOrder | None:
        if po_id is None:
            return None
        return next((po for po in self.open if po.po_id == po_id), None)

    def _change(self, before: PurchaseOrder, after: PurchaseOrder, done: Settled) -> None:
        index = self.open.index(before)
        if after.is_open:
            self.open[index] = after
        else:
            del self.open[index]
            done.closed = True
        done.changed.append(after)

    def request(
        self,
        band_alert: Alert | None,
        event: Event,
        *,
        on_hand: int,
        policy: ProductPolicy,
        rules: OrderRules,
        version: int,
        closed: bool,
        alert_id: AlertId,
        band_threshold: int | None = None,
    ) -> tuple[list[Alert], PurchaseOrder | None]:
        """The alerts to emit for the band and the request (the band's
        ``low_stock``/``out_of_stock`` carries this event's request, or names the oldest
        open order; else a ``reorder`` alert carries it) and the order a request opened.
        ``policy.threshold`` is the reorder point in effect (a request carries it as
        ``reorder_point``); ``band_threshold`` the catalog's, which alerts show as
        ``threshold`` (default: the same)."""
        position = on_hand + self.on_order
        was_above = self.above if self.above is not None else True
        if position > policy.threshold or not (was_above or closed):
            self.above = position > policy.threshold
            return ([self._naming(band_alert)] if band_alert is not None else []), None
        quantity = policy.order_quantity(position)
        emitted: list[Alert] = []
        if band_alert is not None and band_alert.kind in ("low_stock", "out_of_stock"):
            carrier = band_alert
        else:
            if band_alert is not None:
                emitted.append(band_alert)
            carrier = Alert(
                alert_id=alert_id(event, "reorder", ""),
                kind="reorder",
                warehouse_id=event.warehouse_id,
                sku=event.sku,
                on_hand=on_hand,
                threshold=policy.threshold if band_threshold is None else band_threshold,
                reorder_quantity=0,
                event_id=event.event_id,
                raised_ms=event.occurred_ms,
            )
        po_id = po_id_for(carrier)
        if self._named(po_id) is not None:  # a re-accepted copy of the event that opened it
            self.above = False  # the position is at or below the reorder point
            return ([self._naming(carrier)] if carrier is band_alert else emitted), None
        expected_ms = event.occurred_ms + policy.lead_time_ms
        po = PurchaseOrder(
            po_id=po_id,
            warehouse_id=event.warehouse_id,
            sku=event.sku,
            status="historical" if rules.historical else "open",
            quantity=quantity,
            opened_ms=event.occurred_ms,
            expected_ms=expected_ms,
            received_ms=-1,
            received_quantity=0,
            receipt_event_id="",
            alert_id=carrier.alert_id,
            version=version,
            closed_ms=event.occurred_ms if rules.historical else -1,
        )
        if not rules.historical:
            self.open.append(po)
        self.above = on_hand + self.on_order > policy.threshold
        emitted.append(
            replace(
                carrier,
                reorder_quantity=quantity,
                po_id=po_id,
                expected_ms=expected_ms,
                reorder_point=policy.threshold,
            )
        )
        return emitted, po

    def _naming(self, band_alert: Alert) -> Alert:
        """A ``low_stock``/``out_of_stock`` that requests nothing names the oldest open
        order."""
        oldest = self.oldest()
        if oldest is None or band_alert.kind == "back_in_stock":
            return band_alert
        return replace(band_alert, po_id=oldest.po_id, expected_ms=oldest.expected_ms)


def _age(po: PurchaseOrder) -> tuple[int, str]:
    return po.opened_ms, po.po_id


# The documented alert id of (the event's key, kind, the event[, the purchase order]).
AlertId = Callable[[Event, str, str], str]
