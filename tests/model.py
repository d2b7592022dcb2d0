"""Independent reference model of the documented semantics, for tests only.

Validation uses the pydantic ``InventoryEvent`` (not the dataflow's fast decoder);
stock is computed by sorting each key's accepted set, not by replaying increments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from inventory.catalog import CatalogEntry
from inventory.models import InventoryEvent, stock_delta, to_ms
from inventory.settings import Settings


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


def expected_tables(
    msgs: list[Msg],
    lateness_ms: int,
    max_future_ms: int,
    window_ms: int = 60_000,
    policies: dict[str, tuple[int, int]] | None = None,
    default_policy: tuple[int, int] = (10, 50),
) -> Expected:
    """What the tables must hold for messages given in per-partition offset order.

    ``policies`` maps sku -> (low_stock_threshold, target_stock).
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
        out.accepted.update({e.event_id: e for e in accepted})
        out.windows.update(windows_of(key, accepted, window_ms))
        policy = (policies or {}).get(key[1], default_policy)
        alerts = alerts_of(accepted, *policy)
        if alerts:
            out.alerts[key] = alerts
    return out


def expected_for(
    settings: Settings, msgs: list[Msg], catalog: Iterable[CatalogEntry] = ()
) -> Expected:
    """:func:`expected_tables` with the horizons and policies of ``settings`` and a catalog."""
    return expected_tables(
        msgs,
        settings.lateness_seconds * 1000,
        settings.max_future_seconds * 1000,
        settings.window_seconds * 1000,
        {e.sku: (e.low_stock_threshold, e.target_stock) for e in catalog},
        (settings.low_stock_threshold, settings.default_target_stock),
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
    accepted: list[InventoryEvent], threshold: int, target: int
) -> list[tuple[str, int, int, int, str]]:
    """Crossings of the on-hand after each accepted event (arrival order)."""

    def level(on_hand: int) -> int:  # 2 ok, 1 low, 0 out
        return 0 if on_hand <= 0 else (1 if on_hand <= threshold else 2)

    alerts = []
    previous = 2
    latest_count: tuple[int, str, int] | None = None  # (ms, event_id, quantity)
    movements: list[tuple[int, int]] = []  # (ms, delta) of every movement so far
    for event in accepted:
        ms = to_ms(event.occurred_at)
        if event.event_type == "count":
            if latest_count is None or (ms, event.event_id) > latest_count[:2]:
                latest_count = (ms, event.event_id, event.quantity)
        else:
            movements.append((ms, stock_delta(event.event_type, event.quantity)))
        base, after = (latest_count[2], latest_count[0]) if latest_count else (0, -1)
        on_hand = base + sum(d for t, d in movements if t > after)
        now = level(on_hand)
        if now < previous:
            kind = "out_of_stock" if now == 0 else "low_stock"
            alerts.append((kind, on_hand, threshold, max(target - on_hand, 1), event.event_id))
        elif now == 2 and previous < 2:
            alerts.append(("back_in_stock", on_hand, threshold, 0, event.event_id))
        previous = now
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
