"""Property: exact whatever the restarts. Random streams with producer retries re-stamped
around the lateness horizon and events whose ``occurred_at`` order differs from their
arrival across purchase orders, cut at arbitrary points between two messages; at each cut
the flow stops and a new one goes on, either a fresh process from the snapshot (Bytewax
recovery) or a ``--no-recovery`` run of a new lineage that rebuilds every key from the
tables (seeds) and skips the messages they already hold. The tables end equal to the
independent model of the uninterrupted stream. Real chDB, Bytewax's TestingSource."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
import pytest
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSource
from clickhouse_connect.driver.client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.clickhouse.catalog import PolicyBook
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings
from inventory.core.times import format_ms, to_ms
from tests.db.test_property_tables import KEYS, OVERSELL, T0, streams
from tests.support.model import Policy, expected_tables
from tests.support.tables import (
    alerts_table,
    decisions_table,
    on_order_table,
    orders_table,
    oversold_tables,
    reserved_table,
    sales_table,
    stock_table,
    truncate_tables,
)
from tests.support.testing_flow import kafka_messages, run_flow

LATENESS_MS = 600_000
PARTITION_OF = {f"{w}:{s}".encode(): n % 2 for n, (w, s) in enumerate(KEYS)}
# a retry's new occurred_at, seconds after its original: around the horizon
RESTAMP_S = st.sampled_from([1, 300, 590, 599, 600, 601, 610, 700, 790, 900])


@st.composite
def with_retries(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    """A stream of :func:`streams` with producer retries of earlier events, re-stamped."""
    out = list(draw(streams()))
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        if not out:
            break
        key, value = draw(st.sampled_from(out))
        try:
            body: dict[str, Any] = orjson.loads(value)
        except orjson.JSONDecodeError:
            continue
        shift = draw(RESTAMP_S) * 1000
        for field in ("occurred_at", "expires_at"):
            if field in body:
                body[field] = format_ms(to_ms(datetime.fromisoformat(body[field])) + shift)
        out.insert(draw(st.integers(min_value=0, max_value=len(out))), (key, orjson.dumps(body)))
    return out


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    with_retries(),
    st.integers(min_value=1, max_value=6),
    st.lists(st.floats(min_value=0, max_value=1), max_size=3),  # the cuts, as shares
    st.sampled_from(["snapshot", "rebuild"]),
    OVERSELL,  # S2's oversell policy
)
def test_restarts_anywhere_give_the_uninterrupted_tables(
    migrated: tuple[Settings, Client],
    tmp_path_factory: pytest.TempPathFactory,
    stream: list[tuple[bytes, bytes]],
    batch_size: int,
    shares: list[float],
    restart: str,
    oversell: tuple[str, int, int],
) -> None:
    cfg, ch = migrated
    truncate_tables(ch, cfg.clickhouse_database)
    policy = ProductPolicy(4, 15, 120_000, 1, 0, 0)
    s2 = replace(policy, oversell=oversell[0], oversell_limit=oversell[1], release_ms=oversell[2])
    policies = PolicyBook(cfg, {"S1": policy, "S2": s2})
    kafka_msgs, model_msgs = kafka_messages(stream, PARTITION_OF, T0 + 2_000_000)
    cuts = sorted({round(share * len(kafka_msgs)) for share in shares} - {0, len(kafka_msgs)})

    if restart == "snapshot":  # each run stops at its cut; the next resumes from the store
        store = tmp_path_factory.mktemp("store")
        init_db_dir(store, 1)  # type: ignore[no-untyped-call]
        items: list[Any] = list(kafka_msgs)
        for cut in reversed(cuts):
            items.insert(cut, TestingSource.EOF())
        source = TestingSource(items, batch_size=batch_size)
        for _ in range(len(cuts) + 1):
            run_flow(
                cfg, policies, source, lineage="flow:prop", recovery=RecoveryConfig(str(store))
            )
    else:  # each run reads from the start, rebuilds its keys from the tables
        for n, end in enumerate([*cuts, len(kafka_msgs)]):
            source = TestingSource(kafka_msgs[:end], batch_size=batch_size)
            run_flow(cfg, policies, source, lineage=f"run:{n}", seeded=True)

    expected = expected_tables(
        model_msgs,
        LATENESS_MS,
        cfg.max_future_seconds * 1000,
        60_000,
        {
            "S1": Policy(4, 15),
            "S2": Policy(
                4, 15, oversell=oversell[0], oversell_limit=oversell[1], release_ms=oversell[2]
            ),
        },
        (4, 15),
        default_lead_ms=120_000,
        grace_ms=60_000,
        expiry_ms=240_000,
    )
    assert stock_table(ch) == expected.stock
    assert sales_table(ch) == expected.windows
    assert reserved_table(ch) == expected.reserved
    assert orders_table(ch) == expected.orders
    assert on_order_table(ch) == expected.on_order
    # a re-accepted copy's alerts are rows of their own (another raised_at), same ids
    assert {k: sorted(v) for k, v in alerts_table(ch).items()} == {
        k: sorted(v) for k, v in expected.alerts.items()
    }
    named = ch.query("SELECT alert_id, po_id FROM alerts FINAL WHERE po_id != ''")
    assert set(named.result_rows) == expected.named_orders
    points = ch.query("SELECT alert_id, reorder_point FROM alerts FINAL WHERE reorder_quantity > 0")
    assert set(points.result_rows) == expected.reorder_points
    dead = ch.query("SELECT partition, offset FROM dead_letters FINAL").result_rows
    assert set(dead) == set(expected.dead)
    copies = ch.query(
        "SELECT event_id, toUnixTimestamp64Milli(occurred_at) FROM event_acceptances FINAL"
    ).result_rows
    assert sorted(copies) == sorted(expected.copies)
    assert decisions_table(ch) == expected.decisions
    assert oversold_tables(ch) == (expected.oversold, sorted(expected.sales_oversold))
