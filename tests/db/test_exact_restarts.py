"""The two reproductions of issue 33, as documented (docs/semantics.md): an id forgotten
by event time only, whatever the restarts; the oldest open order by its `opened_at`.
Real chDB, the flow on Bytewax's TestingSource."""

from __future__ import annotations

from typing import Any

import orjson
from bytewax.testing import TestingSource
from clickhouse_connect.driver.client import Client

from inventory.clickhouse.catalog import PolicyBook
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from tests.support.tables import truncate_tables
from tests.support.testing_flow import kafka_messages, run_flow

T = 1_795_000_000_000


def body(event_id: str, kind: str, qty: int, at_s: int, **extra: Any) -> tuple[bytes, bytes]:
    return b"W1:S1", orjson.dumps(
        {
            "event_id": event_id,
            "event_type": kind,
            "sku": "S1",
            "warehouse_id": "W1",
            "quantity": qty,
            "occurred_at": format_ms(T + at_s * 1000),
            **extra,
        }
    )


def run(cfg: Settings, msgs: list[Any], lineage: str, *, seeded: bool = False) -> None:
    policies = PolicyBook(cfg, {"S1": ProductPolicy(10, 50, 72 * 3_600_000)})
    run_flow(cfg, policies, TestingSource(msgs, batch_size=1), lineage=lineage, seeded=seeded)


def migrated(cfg: Settings) -> Client:
    client = connect(cfg)
    apply_migrations(client, cfg.clickhouse_database)
    client.close()
    return connect(cfg, database=cfg.clickhouse_database)


RETRY = [
    body("r-1", "count", 100, 0),
    body("r-2", "sale", 1, 1),
    body("r-3", "sale", 1, 700),
    body("r-4", "sale", 1, 800),
    body("r-2", "sale", 1, 790),  # the same id, re-stamped: its copy at T+1 s is forgotten
]


def test_a_retry_past_the_horizon_counts_whatever_the_restarts(db_settings: Settings) -> None:
    ch = migrated(db_settings)
    msgs, _ = kafka_messages(RETRY, {b"W1:S1": 0}, T + 2_000_000)
    run(db_settings, msgs, "run:a")
    assert ch.query("SELECT on_hand FROM stock_levels FINAL").result_rows == [(96,)]
    copies = ch.query(
        "SELECT count() FROM event_acceptances FINAL WHERE event_id = 'r-2'"
    ).result_rows
    assert copies == [(2,)]

    # the same messages, a --no-recovery rebuild from the tables between any two of them
    for cut in range(1, len(msgs)):
        truncate_tables(ch, db_settings.clickhouse_database)
        run(db_settings, msgs[:cut], f"run:{cut}-1")
        run(db_settings, msgs, f"run:{cut}-2", seeded=True)
        stock = ch.query("SELECT on_hand, version FROM stock_levels FINAL").result_rows
        assert stock == [(96, (T + 800_000) << 64 | 5)], cut
    ch.close()


def test_a_restock_without_po_id_receives_the_oldest_order_by_opened_at(
    db_settings: Settings,
) -> None:
    ch = migrated(db_settings)
    msgs, _ = kafka_messages(
        [
            body("c", "count", 60, 0),
            body("s1", "sale", 55, 100),  # on-hand 5: PO A, opened T+100 s
            body("s2", "sale", 45, 50),  # arrives later, happened earlier: PO B, T+50 s
            body("rs", "restock", 10, 300),  # no po_id: the oldest open order, B
        ],
        {b"W1:S1": 0},
        T + 2_000_000,
    )
    run(db_settings, msgs, "run:po")
    orders = ch.query(
        "SELECT toUnixTimestamp64Milli(opened_at) - {t:Int64}, status, received_quantity "
        "FROM purchase_orders FINAL ORDER BY opened_at",
        parameters={"t": T},
    ).result_rows
    assert orders == [(50_000, "partially_received", 10), (100_000, "open", 0)]
    ch.close()
