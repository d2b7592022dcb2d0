"""Purchase orders per (warehouse_id, sku): a reorder request opens one, a restock
carrying its ``po_id`` receives it (contracts.md section 4, docs/semantics.md
"Purchase orders").

* A ``low_stock``/``out_of_stock`` alert while no PO is open opens one: ``po_id`` is
  derived from the alert's id (so a replay re-opens the same PO), ``quantity`` is the
  alert's reorder quantity, ``expected_at`` = the alert's time + the SKU's lead time.
* While a PO is open such alerts still fire but request nothing: their
  ``reorder_quantity`` is 0 and their ``po_id`` the open PO's.
* A ``restock`` with the open PO's ``po_id`` receives it (``received_quantity`` is the
  restock's quantity); any other restock is a plain restock.
* The first accepted event of the key at or after ``expected_at`` + grace, with the PO
  still open, raises ``reorder_overdue`` (once per PO; the PO stays open, status
  ``overdue``, until received). Event time, like everything else here: a key that gets
  no events raises nothing (the ``overdue_purchase_orders`` view also uses the clock).

Every change emits the PO's row, versioned by the key's stock version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from inventory.core.records import Alert, Event, ProductPolicy, PurchaseOrder


def po_id_for(alert: Alert) -> str:
    return f"po-{alert.alert_id[:24]}"


@dataclass(frozen=True, slots=True)
class OrderRules:
    grace_ms: int


def on_alert(
    open_po: PurchaseOrder | None, alert: Alert, policy: ProductPolicy, version: int
) -> tuple[Alert, PurchaseOrder | None]:
    """The alert as emitted and the PO it opens, if any."""
    if alert.reorder_quantity <= 0:
        return alert, None
    if open_po is not None:
        return replace(alert, reorder_quantity=0, po_id=open_po.po_id), None
    expected_ms = alert.raised_ms + policy.lead_time_ms
    po = PurchaseOrder(
        po_id=po_id_for(alert),
        warehouse_id=alert.warehouse_id,
        sku=alert.sku,
        status="open",
        quantity=alert.reorder_quantity,
        opened_ms=alert.raised_ms,
        expected_ms=expected_ms,
        received_ms=-1,
        received_quantity=0,
        receipt_event_id="",
        alert_id=alert.alert_id,
        version=version,
    )
    return replace(alert, po_id=po.po_id, expected_ms=expected_ms), po


def receipt(open_po: PurchaseOrder | None, event: Event, version: int) -> PurchaseOrder | None:
    """The received PO if ``event`` is a restock of the open one."""
    if open_po is None or event.event_type != "restock" or event.po_id != open_po.po_id:
        return None
    return replace(
        open_po,
        status="received",
        received_ms=event.occurred_ms,
        received_quantity=event.quantity,
        receipt_event_id=event.event_id,
        version=version,
    )


def overdue(
    rules: OrderRules,
    open_po: PurchaseOrder | None,
    event: Event,
    *,
    newest_ms: int,
    on_hand: int,
    threshold: int,
    version: int,
    alert_id: str,
) -> tuple[Alert, PurchaseOrder] | None:
    """The ``reorder_overdue`` alert and the overdue PO once the key's event time passes
    the open PO's expected time plus the grace period."""
    if open_po is None or open_po.status != "open":
        return None
    if newest_ms < open_po.expected_ms + rules.grace_ms:
        return None
    late = replace(open_po, status="overdue", version=version)
    alert = Alert(
        alert_id=alert_id,
        kind="reorder_overdue",
        warehouse_id=event.warehouse_id,
        sku=event.sku,
        on_hand=on_hand,
        threshold=threshold,
        reorder_quantity=0,
        event_id=event.event_id,
        raised_ms=event.occurred_ms,
        po_id=open_po.po_id,
        expected_ms=open_po.expected_ms,
    )
    return alert, late
