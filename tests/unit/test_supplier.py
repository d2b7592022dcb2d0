"""The supplier simulator's orders and deliveries (pure; end to end in the demo test)."""

from __future__ import annotations

import orjson

from generators.events import EventGenerator, GeneratorConfig
from generators.supplier import Supplier

T = 1_795_000_000.0


def alert(po_id: str | None, quantity: int, lead_hours: int = 48) -> bytes:
    return orjson.dumps(
        {
            "kind": "out_of_stock",
            "warehouse_id": "WH-01",
            "sku": "SKU-00001",
            "reorder_quantity": quantity,
            "raised_at": "2026-11-18T08:26:40.000Z",
            "expected_at": f"2026-11-{18 + lead_hours // 24:02d}T08:26:40.000Z",
            "po_id": po_id,
        }
    )


def test_delivers_each_order_once_after_its_scaled_lead_time() -> None:
    now = [T]
    supplier = Supplier(speedup=3600, clock=lambda: now[0])
    taken = supplier.take([alert("po-1", 10), alert("po-1", 10), alert(None, 0), alert("po-2", 0)])
    assert taken == 1  # the repeat, a back-in-stock and a request for nothing are skipped
    now[0] = T + 47
    assert supplier.due() == []
    now[0] = T + 48  # 48 hours of lead time at 3600x
    (delivery,) = supplier.due()
    (restock,) = supplier.restocks([delivery])
    event = orjson.loads(restock.value)
    assert event["event_id"] == "sup-po-1" and event["po_id"] == "po-1"
    assert (event["event_type"], event["quantity"], event["warehouse_id"]) == (
        "restock",
        10,
        "WH-01",
    )
    assert restock.key == b"WH-01:SKU-00001"
    assert supplier.take([alert("po-1", 10)]) == 0  # read again later: still once


def test_the_generator_follows_deliveries_and_sells_nothing_it_lacks() -> None:
    config = GeneratorConfig(seed=3, skus=2, warehouses=1, rate=10.0, self_restock=False)
    generator = EventGenerator(config)
    events = [orjson.loads(m.value) for m in generator.messages(400)]
    assert not any(e["event_type"] == "restock" for e in events)
    assert events[-1]["event_type"] == "count" and events[-1]["quantity"] == 0  # sold out
    generator.receive("WH-01", events[-1]["sku"], 30)
    later = [orjson.loads(m.value) for m in generator.messages(20)]
    assert any(e["event_type"] == "sale" and e["sku"] == events[-1]["sku"] for e in later)
