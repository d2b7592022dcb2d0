"""The supplier simulator on the real (tansu) broker: reorder requests read from the
alerts topic become restocks on the events topic, once, across a restart."""

from __future__ import annotations

import orjson

from generators.events import Message
from generators.publish import publish_to_kafka
from generators.supplier import Delivery, Supplier
from generators.supplier_run import SupplierLink
from inventory.core.settings import Settings
from inventory.kafka.topics import ensure_topics
from tests.support.kafka import read_topic


def request(po_id: str, quantity: int) -> Message:
    alert = {
        "alert_id": po_id.removeprefix("po-"),
        "kind": "low_stock",
        "warehouse_id": "WH-01",
        "sku": "SKU-00007",
        "on_hand": 3,
        "threshold": 5,
        "reorder_quantity": quantity,
        "event_id": "e1",
        "raised_at": "2026-11-18T08:26:40.000Z",
        "po_id": po_id,
        "expected_at": "2026-11-20T08:26:40.000Z",
    }
    return Message(b"WH-01:SKU-00007", orjson.dumps(alert))


def link(settings: Settings, seen: list[Delivery]) -> SupplierLink:
    brokers = settings.kafka_brokers or ""
    return SupplierLink(
        brokers, settings.alerts_topic, settings.events_topic, Supplier(), on_delivery=seen.append
    )


def restocks(settings: Settings) -> list[dict[str, object]]:
    return [
        orjson.loads(m.value() or b"")
        for m in read_topic(settings.kafka_brokers or "", settings.events_topic)
    ]


def test_requests_become_restocks_once_across_a_restart(settings: Settings) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka([request("po-a", 12), request("po-b", 0)], brokers, settings.alerts_topic)
    seen: list[Delivery] = []
    first = link(settings, seen)
    try:
        delivered = sum(first.step(deliver_all=True) for _ in range(5))
    finally:
        first.close()
    assert delivered == 1 and [d.po_id for d in seen] == ["po-a"]
    (restock,) = restocks(settings)
    assert (restock["event_type"], restock["po_id"], restock["quantity"]) == ("restock", "po-a", 12)

    publish_to_kafka([request("po-c", 4)], brokers, settings.alerts_topic)
    again = link(settings, seen)  # resumes after what the first one committed
    try:
        sum(again.step(deliver_all=True) for _ in range(5))
    finally:
        again.close()
    assert [r["po_id"] for r in restocks(settings)] == ["po-a", "po-c"]
