"""The demo's sales history: two weeks of shoppers, and a supplier answering the flow's
own purchase orders, as events on the topic.

The history is the backtest's replay (:mod:`inventory.app.backtest.simulate`) of the
generated profile under each SKU's catalog policy, with the backtest's unreliable
supplier: the events it applied (an opening ``count``, the ``sale`` of every unit sold,
a ``hold_request`` for the units a shopper wanted beyond what was on hand, which the flow
refuses, and each delivery as a ``restock`` carrying its ``po_id``, id ``sup-<po_id>``)
are published in time order. The flow, applying the same events with the same rules, opens
the same purchase orders and receives them: demand-policy SKUs learn their demand and
lead times from it. Orders still open at the end stay open (incoming stock).
"""

from __future__ import annotations

import heapq

import orjson

from dataflows.flow import order_rules
from generators.demand import DAY_MS
from generators.message import Message
from inventory.app.backtest.compare import DEFAULT_SUPPLIER
from inventory.app.backtest.demand import Profile, generated_demand
from inventory.app.backtest.simulate import Replay, replay_key
from inventory.core.records import Event
from inventory.core.settings import Settings
from inventory.core.times import format_ms

ORDERS_PER_DAY = 900.0


def history_messages(
    settings: Settings,
    *,
    seed: int,
    days: int,
    end_ms: int,
    demand_share: float,
    skus: int = 100,
    warehouses: int = 3,
) -> list[Message]:
    """``days`` of history ending at ``end_ms`` for the catalog of ``seed``, ``skus`` and
    ``warehouses`` (the event generator's), ``demand_share`` of its SKUs on the demand
    policy."""
    start_ms = end_ms - days * DAY_MS
    profile = Profile(
        seed=seed,
        skus=skus,
        warehouses=warehouses,
        days=days,
        orders_per_day=ORDERS_PER_DAY,
        start_ms=start_ms,
        demand_share=demand_share,
    )
    replay = Replay(
        start_ms,
        end_ms,
        start_ms,
        order_rules(settings),
        settings.lateness_seconds * 1000,
        DEFAULT_SUPPLIER,
        record=True,
        id_prefix=f"hist-{seed:x}-",
    )
    per_key = []
    for key in generated_demand(profile).keys:
        result = replay_key(
            key.warehouse_id,
            key.sku,
            key.orders,
            policy=key.policy,
            initial=key.policy.target_stock,
            replay=replay,
        )
        per_key.append([_message(e, key.unit_price) for e in result.events])
    return [message for _, message in heapq.merge(*per_key, key=lambda pair: pair[0])]


def _message(event: Event, unit_price: float | None) -> tuple[int, Message]:
    body: dict[str, object] = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "sku": event.sku,
        "warehouse_id": event.warehouse_id,
        "quantity": event.quantity,
        "occurred_at": format_ms(event.occurred_ms),
    }
    if event.po_id:
        body["po_id"] = event.po_id
    if event.reservation_id is not None and event.expires_ms is not None:  # a refused ask
        body["reservation_id"] = event.reservation_id
        body["expires_at"] = format_ms(event.expires_ms)
    if event.event_type == "sale" and unit_price is not None:
        body["unit_price"] = unit_price
    key = f"{event.warehouse_id}:{event.sku}".encode()
    return event.occurred_ms, Message(key, orjson.dumps(body))
