"""Daily reconciliation: stock recomputed in SQL from the event history (batch) agrees
with the streamed stock_levels, and a discrepancy is flagged."""

from __future__ import annotations

from typing import Any

from inventory.app.run import run_inventory
from tests.support.pipeline import produce_and_expect


def refresh(ch: Any) -> list[tuple[Any, ...]]:
    ch.command("SYSTEM REFRESH VIEW stock_reconciliation")
    ch.command("SYSTEM WAIT VIEW stock_reconciliation")
    return ch.query(
        "SELECT warehouse_id, sku, batch_on_hand, stream_on_hand, status "
        "FROM stock_reconciliation ORDER BY warehouse_id, sku"
    ).result_rows


def test_batch_recomputation_equals_the_stream_and_flags_drift(settings: Any, ch: Any) -> None:
    expected, _ = produce_and_expect(settings, ch)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    rows = refresh(ch)
    assert len(rows) == len(expected.stock)
    assert {r[4] for r in rows} == {"ok"}
    assert {(r[0], r[1]): r[2] for r in rows} == {k: v[0] for k, v in expected.stock.items()}

    # drift: a stock row nobody's events explain, and a wrong on-hand with a higher version
    ch.insert(
        "stock_levels",
        [
            ("WH-X", "GHOST", 5, 1, 1_795_000_000_000, "x"),
            (rows[0][0], rows[0][1], rows[0][3] + 7, 2**127, 1_795_000_000_000, "x"),
        ],
        column_names=["warehouse_id", "sku", "on_hand", "version", "updated_at", "last_event_id"],
    )
    flagged = {(r[0], r[1]): r[4] for r in refresh(ch) if r[4] != "ok"}
    assert flagged == {("WH-X", "GHOST"): "missing_in_batch", (rows[0][0], rows[0][1]): "mismatch"}
