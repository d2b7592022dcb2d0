"""Independent reference model of the documented semantics, for tests only.

Validation uses the pydantic ``InventoryEvent`` (not the dataflow's fast decoder);
stock is computed by sorting each key's accepted set, not by replaying increments;
``reserved`` from the whole accepted set at once; purchase orders by walking the
accepted events in arrival order with plain dicts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from inventory.clickhouse.catalog import CatalogEntry
from inventory.core.contract import InventoryEvent, stock_delta
from inventory.core.settings import Settings
from inventory.core.times import to_ms


@dataclass(frozen=True)
class Msg:
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int
    timestamp_ms: int


@dataclass
class Expected:
    stock: dict[tuple[str, str], tuple[int, int, int, str]] = field(default_factory=dict)
    accepted: dict[str, InventoryEvent] = field(default_factory=dict)
    dead: dict[tuple[int, int], str] = field(default_factory=dict)  # (partition, offset) -> why
    # (warehouse, sku, window_start_ms) -> (units, revenue_e4, orders, sales)
    windows: dict[tuple[str, str, int], tuple[int, int, int, int]] = field(default_factory=dict)
    # per key, in order: (kind, on_hand, threshold, reorder_quantity, event_id)
    alerts: dict[tuple[str, str], list[tuple[str, int, int, int, str]]] = field(
        default_factory=dict
    )
    # (warehouse, sku) -> units held by active reservations
    reserved: dict[tuple[str, str], int] = field(default_factory=dict)
    # po_id -> (warehouse, sku, status, quantity, opened_ms, expected_ms, received_ms,
    #           received_quantity, receipt_event_id, version)
    orders: dict[str, tuple[str, str, str, int, int, int, int, int, str, int]] = field(
        default_factory=dict
    )
    # alert_id -> po_id of every alert that names a purchase order
    alert_orders: dict[str, str] = field(default_factory=dict)


HOUR_MS = 3_600_000
LEAD_MS = 72 * HOUR_MS
GRACE_MS = 24 * HOUR_MS


def expected_tables(
    msgs: list[Msg],
    lateness_ms: int,
    max_future_ms: int,
    window_ms: int = 60_000,
    policies: dict[str, tuple[int, int]] | None = None,
    default_policy: tuple[int, int] = (10, 50),
    lead_ms: dict[str, int] | None = None,
    default_lead_ms: int = LEAD_MS,
    grace_ms: int = GRACE_MS,
) -> Expected:
    """What the tables must hold for messages given in per-partition offset order.

    ``policies`` maps sku -> (low_stock_threshold, target_stock); ``lead_ms`` sku -> lead
    time (ms).
    """
    out = Expected()
    per_key: dict[tuple[str, str], list[tuple[Msg, InventoryEvent]]] = defaultdict(list)
    for msg in sorted(msgs, key=lambda m: (m.partition, m.offset)):
        try:
            if msg.value is None or len(msg.value) > 64 * 1024:
                raise ValueError("empty or oversize")
            event = InventoryEvent.model_validate_json(msg.value)
            if to_ms(event.occurred_at) > msg.timestamp_ms + max_future_ms:
                raise ValueError("future")
        except (ValidationError, ValueError):
            out.dead[(msg.partition, msg.offset)] = "invalid"
            continue
        per_key[(event.warehouse_id, event.sku)].append((msg, event))
    for key, items in per_key.items():
        newest: int | None = None
        accepted: list[InventoryEvent] = []
        ids: set[str] = set()
        for msg, event in items:
            ms = to_ms(event.occurred_at)
            if newest is not None and ms < newest - lateness_ms:
                out.dead[(msg.partition, msg.offset)] = "late"
                continue
            if event.event_id in ids:
                continue
            ids.add(event.event_id)
            accepted.append(event)
            newest = ms if newest is None else max(newest, ms)
        out.stock[key] = stock_of(accepted)
        out.reserved[key] = reserved_of(accepted)
        out.accepted.update({e.event_id: e for e in accepted})
        out.windows.update(windows_of(key, accepted, window_ms))
        policy = (policies or {}).get(key[1], default_policy)
        lead = (lead_ms or {}).get(key[1], default_lead_ms)
        alerts = alerts_of(accepted, *policy, lead_ms=lead, grace_ms=grace_ms, out=out)
        if alerts:
            out.alerts[key] = alerts
    return out


def reserved_of(accepted: list[InventoryEvent]) -> int:
    """Units of the active holds, from the whole accepted set (docs/semantics.md)."""
    if not accepted:
        return 0
    newest = max(to_ms(e.occurred_at) for e in accepted)
    governing: dict[str, InventoryEvent] = {}
    closed_at: dict[str, int] = {}
    for e in accepted:
        rid = e.reservation_id
        if rid is None:
            continue
        if e.event_type == "reserve":
            held = governing.get(rid)
            if held is None or (to_ms(e.occurred_at), e.event_id) > (
                to_ms(held.occurred_at),
                held.event_id,
            ):
                governing[rid] = e
        elif e.event_type in ("release", "sale"):
            closed_at[rid] = max(closed_at.get(rid, -1), to_ms(e.occurred_at))
    total = 0
    for rid, e in governing.items():
        assert e.expires_at is not None
        closed = closed_at.get(rid, -1) >= to_ms(e.occurred_at)
        if to_ms(e.expires_at) > newest and not closed:
            total += e.quantity
    return total


def model_alert_id(warehouse_id: str, sku: str, kind: str, event_id: str) -> str:
    """The documented alert id: BLAKE2b-128 of the fields joined by U+001F, in hex."""
    raw = "\x1f".join((warehouse_id, sku, kind, event_id)).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def expected_for(
    settings: Settings, msgs: list[Msg], catalog: Iterable[CatalogEntry] = ()
) -> Expected:
    """:func:`expected_tables` with the horizons and policies of ``settings`` and a catalog."""
    entries = list(catalog)
    default_lead = round(settings.default_lead_time_hours * HOUR_MS)
    return expected_tables(
        msgs,
        settings.lateness_seconds * 1000,
        settings.max_future_seconds * 1000,
        settings.window_seconds * 1000,
        {e.sku: (e.low_stock_threshold, e.target_stock) for e in entries},
        (settings.low_stock_threshold, settings.default_target_stock),
        {
            e.sku: round((e.lead_time_hours or settings.default_lead_time_hours) * HOUR_MS)
            for e in entries
        },
        default_lead,
        round(settings.reorder_grace_hours * HOUR_MS),
    )


def windows_of(
    key: tuple[str, str], accepted: list[InventoryEvent], window_ms: int
) -> dict[tuple[str, str, int], tuple[int, int, int, int]]:
    """Tumbling-window totals of the accepted sales, grouped from scratch."""
    groups: dict[int, list[InventoryEvent]] = defaultdict(list)
    for e in accepted:
        if e.event_type == "sale":
            ms = to_ms(e.occurred_at)
            groups[ms // window_ms * window_ms].append(e)
    result = {}
    for start, sales in groups.items():
        units = sum(e.quantity for e in sales)
        revenue = sum(e.quantity * round((e.unit_price or 0) * 10_000) for e in sales)
        orders = len({e.order_id or ("own", e.event_id) for e in sales})
        result[(key[0], key[1], start)] = (units, revenue, orders, len(sales))
    return result


def alerts_of(
    accepted: list[InventoryEvent],
    threshold: int,
    target: int,
    *,
    lead_ms: int = LEAD_MS,
    grace_ms: int = GRACE_MS,
    out: Expected | None = None,
) -> list[tuple[str, int, int, int, str]]:
    """Crossings of the on-hand after each accepted event (arrival order), one reorder
    per open purchase order, receipts and overdue purchase orders (into ``out``)."""
    orders = out.orders if out is not None else {}
    alert_orders = out.alert_orders if out is not None else {}
    open_po: str | None = None
    newest = -1

    def level(on_hand: int) -> int:  # 2 ok, 1 low, 0 out
        return 0 if on_hand <= 0 else (1 if on_hand <= threshold else 2)

    alerts = []
    previous = 2
    latest_count: tuple[int, str, int] | None = None  # (ms, event_id, quantity)
    movements: list[tuple[int, int]] = []  # (ms, delta) of every movement so far
    for n, event in enumerate(accepted, start=1):
        ms = to_ms(event.occurred_at)
        newest = max(newest, ms)
        version = (newest << 64) | n
        wh, sku = event.warehouse_id, event.sku
        if event.event_type == "count":
            if latest_count is None or (ms, event.event_id) > latest_count[:2]:
                latest_count = (ms, event.event_id, event.quantity)
        else:
            movements.append((ms, stock_delta(event.event_type, event.quantity)))
        base, after = (latest_count[2], latest_count[0]) if latest_count else (0, -1)
        on_hand = base + sum(d for t, d in movements if t > after)
        if open_po is not None and event.event_type == "restock" and event.po_id == open_po:
            po = orders[open_po]
            orders[open_po] = (
                *po[:2],
                "received",
                *po[3:6],
                ms,
                event.quantity,
                event.event_id,
                version,
            )
            open_po = None
        now = level(on_hand)
        if now < previous:
            kind = "out_of_stock" if now == 0 else "low_stock"
            aid = model_alert_id(wh, sku, kind, event.event_id)
            if open_po is None:
                reorder = max(target - on_hand, 1)
                open_po = "po-" + aid[:24]
                orders[open_po] = (wh, sku, "open", reorder, ms, ms + lead_ms, -1, 0, "", version)
            else:
                reorder = 0
            alert_orders[aid] = open_po
            alerts.append((kind, on_hand, threshold, reorder, event.event_id))
        elif now == 2 and previous < 2:
            alerts.append(("back_in_stock", on_hand, threshold, 0, event.event_id))
        previous = now
        po = orders.get(open_po) if open_po is not None else None
        if (
            open_po is not None
            and po is not None
            and po[2] == "open"
            and newest >= po[5] + grace_ms
        ):
            orders[open_po] = (*po[:2], "overdue", *po[3:9], version)
            aid = model_alert_id(wh, sku, "reorder_overdue", event.event_id)
            alert_orders[aid] = open_po
            alerts.append(("reorder_overdue", on_hand, threshold, 0, event.event_id))
    return alerts


def stock_of(accepted: list[InventoryEvent]) -> tuple[int, int, int, str]:
    """(on_hand, version, updated_ms, last_event_id) from a key's accepted events."""
    ordered = sorted(accepted, key=lambda e: (to_ms(e.occurred_at), e.event_id))
    counts = [e for e in ordered if e.event_type == "count"]
    if counts:
        last = counts[-1]
        base, after = last.quantity, to_ms(last.occurred_at)
    else:
        base, after = 0, -1
    on_hand = base + sum(
        stock_delta(e.event_type, e.quantity)
        for e in ordered
        if e.event_type != "count" and to_ms(e.occurred_at) > after
    )
    newest = ordered[-1]
    newest_ms = to_ms(newest.occurred_at)
    # version: the newest event's time first, then the number of accepted events
    return on_hand, (newest_ms << 64) | len(ordered), newest_ms, newest.event_id
