"""Independent reference model of the documented semantics, for tests only.

Validation uses the pydantic ``InventoryEvent`` (not the dataflow's fast decoder);
stock is computed by sorting each key's accepted set, not by replaying increments;
``reserved`` from the whole accepted set at once; purchase orders by walking the
accepted events in arrival order with plain dicts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from inventory.clickhouse.catalog import CatalogEntry
from inventory.core.contract import InventoryEvent, stock_delta
from inventory.core.settings import Settings
from inventory.core.times import to_ms
from tests.support import model_holds as holds
from tests.support.model_demand import Demand, forecast_in_effect


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
    #           received_quantity, receipt_event_id, version, cancelled_quantity, closed_ms)
    orders: dict[str, tuple[str, str, str, int, int, int, int, int, str, int, int, int]] = field(
        default_factory=dict
    )
    # alert_id -> po_id of every alert that names a purchase order
    alert_orders: dict[str, str] = field(default_factory=dict)
    # (event_id, occurred_ms) of every accepted copy (event_acceptances)
    copies: list[tuple[str, int]] = field(default_factory=list)
    # (alert_id, the reorder point) of every alert that requests (reorder_quantity > 0)
    reorder_points: set[tuple[str, int]] = field(default_factory=set)
    # (alert_id, po_id) of every alert that names a purchase order: a re-accepted copy's
    # alerts are rows of their own (their raised_at differs) under the original's ids
    named_orders: set[tuple[str, str]] = field(default_factory=set)
    # (warehouse, sku) -> units the open purchase orders still bring
    on_order: dict[tuple[str, str], int] = field(default_factory=dict)
    # (warehouse, sku) -> (reorder_point, order_up_to, basis, demand_per_day,
    #                      lead_time_days, next_expected_ms) after its last event
    levels: dict[tuple[str, str], tuple[int, int, str, float, float, int]] = field(
        default_factory=dict
    )
    # hold_decisions: (reservation_id, warehouse, sku, event_id, request, decision, reason,
    #                  quantity, available, expires_ms, decided_ms, version, backordered,
    #                  ships_ms)
    decisions: set[tuple[str, str, str, str, str, str, str, int, int, int, int, int, int, int]] = (
        field(default_factory=set)
    )
    # (warehouse, sku) -> units oversold (> 0 only)
    oversold: dict[tuple[str, str], int] = field(default_factory=dict)
    # (event_id, occurred_ms, units) of every accepted sale copy that oversold, in order
    sales_oversold: list[tuple[str, int, int]] = field(default_factory=list)
    # (warehouse, sku, day start) -> (sold, refused, out_of_stock_ms, lost, demand)
    demand_days: dict[tuple[str, str, int], tuple[int, int, int, float, float]] = field(
        default_factory=dict
    )
    # (warehouse, sku) -> the forecast version its levels come from (0: none)
    forecast_versions: dict[tuple[str, str], int] = field(default_factory=dict)


HOUR_MS = 3_600_000
LEAD_MS = 72 * HOUR_MS
GRACE_MS = 24 * HOUR_MS
EXPIRY_MS = 168 * HOUR_MS


@dataclass(frozen=True)
class Policy:
    """A SKU's replenishment policy as the catalog documents it."""

    threshold: int
    target: int
    case_pack: int = 1
    min_order: int = 0
    max_order: int = 0  # 0: 10 x target
    replenishment: str = "static"  # or "demand"
    service_level: float = 0.0  # 0: the default
    review_days: float = 0.0  # 0: the default
    order_cost: float = 0.0
    holding_cost: float = 0.0
    oversell: str = "deny"  # or "backorder", "preorder"
    oversell_limit: int = 0  # 0: no cap
    release_ms: int = -1


@dataclass(frozen=True)
class Rules:
    """The flow's replenishment settings as documented."""

    lead_ms: int = LEAD_MS
    grace_ms: int = GRACE_MS
    expiry_ms: int = EXPIRY_MS
    receipts_need_po_id: bool = False
    historical: bool = False  # a backfill
    lateness_ms: int = 600_000
    horizon_days: int = 28
    min_days: int = 7
    min_receipts: int = 3
    service_level: float = 0.95
    review_days: float = 7.0
    tracking_limit: float = 0.5
    weights: tuple[int, ...] = (1,) * 24


def expected_tables(
    msgs: list[Msg],
    lateness_ms: int,
    max_future_ms: int,
    window_ms: int = 60_000,
    policies: dict[str, tuple[int, int] | Policy] | None = None,
    default_policy: tuple[int, int] | Policy = (10, 50),
    lead_ms: dict[str, int] | None = None,
    default_lead_ms: int = LEAD_MS,
    grace_ms: int = GRACE_MS,
    *,
    expiry_ms: int = EXPIRY_MS,
    receipts_need_po_id: bool = False,
    historical: bool | Callable[[Msg], bool] = False,
    demand: dict[str, Any] | None = None,
    forecasts: dict[tuple[str, str], tuple[Any, ...]] | None = None,
) -> Expected:
    """What the tables must hold for messages given in per-partition offset order.

    ``policies`` maps sku -> :class:`Policy` (or (low_stock_threshold, target_stock));
    ``lead_ms`` sku -> lead time (ms); ``historical``: the messages are a backfill's (or
    those it says are: a backfill, then a stream that continues it); ``demand``: the
    demand settings (:class:`Rules` fields) other than the defaults; ``forecasts`` each
    key's forecast versions.
    """
    is_history = historical if callable(historical) else (lambda _: historical)
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
        ids: dict[str, int] = {}  # id -> occurred_ms of its accepted copy
        history: set[str] = set()  # ids of the accepted events a backfill decided
        refused: dict[tuple[str, int], int] = {}  # (event_id, ms) -> units refused insufficient
        view = holds.KeyView()
        policy = as_policy((policies or {}).get(key[1], default_policy))
        rules = Rules(
            (lead_ms or {}).get(key[1], default_lead_ms),
            grace_ms,
            expiry_ms,
            receipts_need_po_id,
            lateness_ms=lateness_ms,
            **(demand or {}),
        )
        room = None
        if policy.oversell != "deny":
            room = room_beyond(policy, rules, accepted, history)
        for msg, given in items:
            event = given
            ms = to_ms(event.occurred_at)
            if newest is not None and ms < newest - lateness_ms:
                out.dead[(msg.partition, msg.offset)] = "late"
                if event.event_type in holds.DECIDED:  # told: refused, late
                    rid = event.reservation_id or ""
                    verdict = (rid, event.event_type, "refused", "late", event.quantity, -1, 0, -1)
                    record(out, event, verdict, view, ms)
                continue
            remembered = ids.get(event.event_id)
            if remembered is not None and remembered >= max(newest or ms, ms) - lateness_ms:
                continue  # forgotten only once out of the horizon of the newest event time
            verdicts = []
            if event.event_type in holds.DECIDED:
                event, verdict = holds.decide(view, event, lateness_ms, room)
                verdicts.append(verdict)
                ms = to_ms(event.occurred_at)
                if verdict[3] == "insufficient":
                    refused[(event.event_id, ms)] = verdict[4]
            then = view.active(view.newest) if view.candidates else {}
            was = view.available() if event.event_type == "sale" else 0
            ids[event.event_id] = ms
            out.copies.append((event.event_id, ms))
            accepted.append(event)
            view.add(event)
            if is_history(msg):
                history.add(event.event_id)
            newest = ms if newest is None else max(newest, ms)
            for verdict in verdicts + (holds.expired(view, then) if then else []):
                record(out, event, verdict, view, ms if verdict[1] else newest)
            if event.event_type == "sale" and (units := holds.oversold(was, view.available())):
                out.sales_oversold.append((event.event_id, ms, units))
                out.oversold[key] = out.oversold.get(key, 0) + units
        out.stock[key] = stock_of(accepted)
        out.reserved[key] = reserved_of(accepted)
        out.accepted.update({e.event_id: e for e in accepted})
        out.windows.update(windows_of(key, accepted, window_ms))
        alerts = alerts_of(
            accepted,
            policy,
            rules,
            out=out,
            history=history,
            refused=refused,
            forecasts=(forecasts or {}).get(key, ()),
            oversold={(eid, ms) for eid, ms, _ in out.sales_oversold},
        )
        if alerts:
            out.alerts[key] = alerts
    return out


def record(
    out: Expected,
    event: InventoryEvent,
    verdict: holds.Verdict,
    view: holds.KeyView,
    decided_ms: int,
) -> None:
    """A hold_decisions row: the verdict, made at ``event``, with the key as ``view``."""
    rid, request, decision, reason, quantity, expires_ms, backordered, ships_ms = verdict
    version = (max(view.newest, 0) << 64) | view.size
    out.decisions.add(
        (
            rid,
            event.warehouse_id,
            event.sku,
            event.event_id,
            request,
            decision,
            reason,
            quantity,
            view.available(),
            expires_ms,
            decided_ms,
            version,
            backordered,
            ships_ms,
        )
    )


def room_beyond(
    policy: Policy, rules: Rules, accepted: list[InventoryEvent], history: set[str]
) -> holds.Room:
    """docs/semantics.md, "Backorders and preorders": a backorder SKU may promise the units
    its open purchase orders still bring after the events accepted so far (``accepted``,
    read when asked), capped by the limit, covered by order of expected delivery then
    po_id; a preorder SKU its limit (0: any number) before the release, delivered then."""

    def room(now_ms: int) -> tuple[int, list[tuple[int, int]]] | None:
        if policy.oversell == "preorder":
            if now_ms >= policy.release_ms:
                return None
            return (policy.oversell_limit or 10**15, [(policy.release_ms, 10**15)])
        walk = Expected()
        alerts_of(accepted, policy, rules, out=walk, history=history)
        deliveries = sorted(
            (row[5], po_id, max(row[3] - row[7] - row[10], 0))
            for po_id, row in walk.orders.items()
            if row[2] in ("open", "partially_received", "overdue")
        )
        units = sum(left for _, _, left in deliveries)
        if policy.oversell_limit:
            units = min(units, policy.oversell_limit)
        return units, [(expected_ms, left) for expected_ms, _, left in deliveries]

    return room


def as_policy(policy: tuple[int, int] | Policy) -> Policy:
    return policy if isinstance(policy, Policy) else Policy(*policy)


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


def model_alert_id(*fields: str) -> str:
    """The documented alert id: BLAKE2b-128 of (warehouse_id, sku, kind, event_id[,
    po_id]) joined by U+001F, in hex."""
    raw = "\x1f".join(fields).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def expected_for(
    settings: Settings,
    msgs: list[Msg],
    catalog: Iterable[CatalogEntry] = (),
    *,
    historical: bool | Callable[[Msg], bool] = False,
) -> Expected:
    """:func:`expected_tables` with the horizons and policies of ``settings`` and a catalog
    (``historical``: which messages are a backfill's)."""
    entries = list(catalog)
    default_lead = round(settings.default_lead_time_hours * HOUR_MS)
    return expected_tables(
        msgs,
        settings.lateness_seconds * 1000,
        settings.max_future_seconds * 1000,
        settings.window_seconds * 1000,
        {
            e.sku: Policy(
                e.low_stock_threshold,
                e.target_stock,
                e.case_pack or 1,
                e.min_order_quantity,
                e.max_order_quantity,
                e.replenishment_policy,
                e.service_level,
                e.review_period_days,
                e.order_cost,
                e.holding_cost,
                e.oversell_policy,
                e.oversell_limit,
                to_ms(e.release_at) if e.release_at else -1,
            )
            for e in entries
        },
        (settings.low_stock_threshold, settings.default_target_stock),
        {
            e.sku: round((e.lead_time_hours or settings.default_lead_time_hours) * HOUR_MS)
            for e in entries
        },
        default_lead,
        round(settings.reorder_grace_hours * HOUR_MS),
        expiry_ms=round(settings.reorder_expiry_hours * HOUR_MS),
        receipts_need_po_id=settings.receipts_need_po_id,
        historical=historical,
        demand={
            "horizon_days": settings.demand_horizon_days,
            "min_days": settings.demand_min_days,
            "min_receipts": settings.lead_time_min_receipts,
            "service_level": settings.default_service_level,
            "review_days": settings.default_review_period_days,
        },
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


def order_quantity(policy: Policy, position: int) -> int:
    """docs/semantics.md: target - position (at least 1), up to a multiple of the case
    pack, then at least the minimum and at most the maximum (0: 10 x target)."""
    wanted = max(policy.target - position, 1)
    pack = policy.case_pack
    if wanted % pack:
        wanted += pack - wanted % pack
    wanted = max(wanted, policy.min_order)
    return max(min(wanted, policy.max_order or 10 * policy.target), 1)


def alerts_of(
    accepted: list[InventoryEvent],
    policy: Policy | tuple[int, int],
    rules: Rules | None = None,
    *,
    out: Expected | None = None,
    history: set[str] | None = None,
    silent: set[str] | None = None,
    oversold: set[tuple[str, int]] | None = None,
    refused: dict[tuple[str, int], int] | None = None,
    forecasts: tuple[Any, ...] = (),
) -> list[tuple[str, int, int, int, str]]:
    """Band crossings of the on-hand, requests on the inventory position and purchase
    orders' lives after each accepted event in arrival order (docs/semantics.md,
    "Replenishment"); the orders go into ``out``. A request at an event of ``history``
    (or with ``rules.historical``) opens a historical order. The events of ``silent``
    (a history folded into the stock) change on-hand and nothing else; the next other
    event meets the key as a seed leaves it: band and position flag from the stock then.
    """
    policy = as_policy(policy)
    rules = rules or Rules()
    orders = out.orders if out is not None else {}
    alert_orders = out.alert_orders if out is not None else {}
    # po_id -> [status, quantity, opened, expected, received_ms, received, receipt,
    #           version, cancelled, closed_ms]: the open ones, in the order they opened
    live: dict[str, list] = {}  # type: ignore[type-arg]
    newest = -1
    threshold = policy.threshold

    def level(on_hand: int) -> int:  # 2 ok, 1 low, 0 out
        return 0 if on_hand <= 0 else (1 if on_hand <= threshold else 2)

    def remaining(po: list) -> int:  # type: ignore[type-arg]
        return max(po[1] - po[5] - po[8], 0)

    def record(po_id: str, po: list, wh: str, sku: str) -> None:  # type: ignore[type-arg]
        orders[po_id] = (
            wh,
            sku,
            po[0],
            po[1],
            po[2],
            po[3],
            po[4],
            po[5],
            po[6],
            po[7],
            po[8],
            po[9],
        )

    alerts: list[tuple[str, int, int, int, str]] = []
    band = 2
    above = True
    latest_count: tuple[int, str, int] | None = None  # (ms, event_id, quantity)
    movements: list[tuple[int, int]] = []  # (ms, delta) of every movement so far
    on_hand = 0
    seam = False
    refused = refused or {}

    def forecast_of(day: int) -> float | None:  # tracked while the SKU is on forecast
        if policy.replenishment != "forecast":
            return None
        return forecast_in_effect(forecasts, day)

    def note(d: Demand, e: InventoryEvent) -> None:
        at = to_ms(e.occurred_at)
        units = refused.get((e.event_id, at), 0)
        delta = 0 if e.event_type == "count" else stock_delta(e.event_type, e.quantity)
        d.event(at, e.event_type, e.event_id, e.quantity, delta, units)

    def levels_now() -> tuple[Any, ...]:
        return demand.levels(policy, rules, forecasts, newest)  # type: ignore[no-any-return]

    demand = Demand(rules.weights)
    received: list[tuple[int, int]] = []  # (opened, received) of orders received in full
    for n, event in enumerate(accepted, start=1):
        if seam and event.event_id not in (silent or ()):  # a seed: as the stock stands
            band = level(on_hand)
            demand = Demand(rules.weights)  # rebuilt from every event so far, as a seed is
            for earlier in accepted[: n - 1]:
                note(demand, earlier)
            demand.close(newest - rules.lateness_ms, rules.horizon_days, forecast_of)
            for opened_ms, received_ms in received:
                demand.lead(opened_ms, received_ms)
            rop = levels_now()[0]
            above = on_hand + sum(remaining(po) for po in live.values()) > rop
            seam = False
        ms = to_ms(event.occurred_at)
        newest = max(newest, ms)
        version = (newest << 64) | n
        wh, sku = event.warehouse_id, event.sku
        note(demand, event)
        demand.close(newest - rules.lateness_ms, rules.horizon_days, forecast_of)
        if event.event_type == "count":
            if latest_count is None or (ms, event.event_id) > latest_count[:2]:
                latest_count = (ms, event.event_id, event.quantity)
        else:
            movements.append((ms, stock_delta(event.event_type, event.quantity)))
        base, after = (latest_count[2], latest_count[0]) if latest_count else (0, -1)
        on_hand = base + sum(d for t, d in movements if t > after)
        if event.event_id in (silent or ()):
            seam = True
            continue
        if (event.event_id, ms) in (oversold or ()):  # 1. a sale beyond what was available
            alerts.append(("oversell", on_hand, threshold, 0, event.event_id))
        closed = False
        # 2. this event's receipt or cancellation
        if event.event_type == "restock":
            target = event.po_id if event.po_id in live else None
            if target is None and event.po_id is None and live and not rules.receipts_need_po_id:
                target = min(live, key=lambda p: (live[p][2], p))  # the oldest open order
            if target is not None:
                po = live[target]
                po[5] += event.quantity
                po[4], po[6], po[7] = ms, event.event_id, version
                if po[5] >= po[1] - po[8]:
                    po[0], po[9] = "received", ms
                    del live[target]
                    closed = True
                    demand.lead(po[2], ms)  # a lead time learned
                    received.append((po[2], ms))
                elif po[0] != "overdue":
                    po[0] = "partially_received"
                record(target, po, wh, sku)
        elif event.event_type == "cancel" and event.po_id in live:
            po = live[event.po_id]
            left = remaining(po)
            po[8] += min(event.quantity, left) if event.quantity else left
            po[7] = version
            if remaining(po) == 0:
                po[0], po[9] = "cancelled", ms
                del live[event.po_id]
                closed = True
            record(event.po_id, po, wh, sku)
        # 3. deadlines
        for po_id in list(live):
            po = live[po_id]
            if newest >= po[3] + rules.expiry_ms:
                kind = "reorder_expired"
                po[0], po[9], po[7] = "expired", ms, version
                del live[po_id]
                closed = True
            elif po[0] != "overdue" and newest >= po[3] + rules.grace_ms:
                kind = "reorder_overdue"
                po[0], po[7] = "overdue", version
            else:
                continue
            record(po_id, po, wh, sku)
            alert_orders[model_alert_id(wh, sku, kind, event.event_id, po_id)] = po_id
            if out is not None:
                out.named_orders.add((model_alert_id(wh, sku, kind, event.event_id, po_id), po_id))
            alerts.append((kind, on_hand, threshold, 0, event.event_id))
        # 4. the band
        now = level(on_hand)
        crossing = None
        if now < band:
            crossing = "out_of_stock" if now == 0 else "low_stock"
        elif now == 2 and band < 2:
            crossing = "back_in_stock"
        band = now
        # 5. the request, on the reorder point and order-up-to level in effect
        rop, order_up_to, *_ = levels_now()
        position = on_hand + sum(remaining(po) for po in live.values())
        kind = crossing if crossing in ("low_stock", "out_of_stock") else "reorder"
        aid = model_alert_id(wh, sku, kind, event.event_id)
        # a re-accepted copy of the event that opened an open order requests nothing more
        if position <= rop and (above or closed) and "po-" + aid[:24] not in live:
            quantity = order_quantity(replace(policy, threshold=rop, target=order_up_to), position)
            if kind == "reorder" and crossing is not None:
                alerts.append((crossing, on_hand, threshold, 0, event.event_id))
            po_id = "po-" + aid[:24]
            po = ["open", quantity, ms, ms + rules.lead_ms, -1, 0, "", version, 0, -1]
            if rules.historical or event.event_id in (history or ()):
                po[0], po[9] = "historical", ms
            else:
                live[po_id] = po
            record(po_id, po, wh, sku)
            alert_orders[aid] = po_id
            if out is not None:
                out.reorder_points.add((aid, rop))  # the point it was requested at
                out.named_orders.add((aid, po_id))
            alerts.append((kind, on_hand, threshold, quantity, event.event_id))
        elif crossing is not None:
            if crossing != "back_in_stock" and live:
                aid = model_alert_id(wh, sku, crossing, event.event_id)
                alert_orders[aid] = min(live, key=lambda p: (live[p][2], p))
                if out is not None:
                    out.named_orders.add((aid, alert_orders[aid]))
            alerts.append((crossing, on_hand, threshold, 0, event.event_id))
        above = on_hand + sum(remaining(po) for po in live.values()) > rop
    if out is not None and accepted:
        key = (accepted[0].warehouse_id, accepted[0].sku)
        out.on_order[key] = sum(remaining(po) for po in live.values())
        nearest = min((po[3] for po in live.values()), default=-1)
        *figures, version = levels_now()
        out.levels[key] = (*figures, nearest)
        out.forecast_versions[key] = version
        for day, closed in demand.days.items():
            out.demand_days[(*key, day)] = closed
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
