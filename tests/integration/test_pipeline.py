"""End to end on real parts: local Kafka broker -> Bytewax -> embedded ClickHouse."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import orjson
from clickhouse_connect.driver.client import Client

from inventory.app.run import run_inventory
from inventory.clickhouse.catalog import write_catalog
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.contract import stock_delta
from inventory.core.settings import Settings
from inventory.core.times import to_ms
from tests.support.kafka import read_topic
from tests.support.pipeline import EDGE_KEY, WITH_HOLDS, catalog_of, produce_and_expect
from tests.support.tables import alerts_table, decisions_table, sales_table, stock_table


def test_stock_levels_equal_independent_model(settings: Settings, ch: Client) -> None:
    expected, msgs = produce_and_expect(settings, ch, WITH_HOLDS)
    # the generated stream really exercises the defences
    assert Counter(expected.dead.values())["late"] > 0
    assert Counter(expected.dead.values())["invalid"] > 0
    assert len(expected.accepted) + len(expected.dead) < len(msgs)  # duplicates dropped

    brokers = settings.kafka_brokers or ""
    run_inventory(settings, brokers, exit_at_end=True)

    assert stock_table(ch) == expected.stock
    assert expected.stock[EDGE_KEY][0] == 31
    assert sales_table(ch) == expected.windows
    assert sum(len(a) for a in expected.alerts.values()) > 20
    assert alerts_table(ch) == {
        key: sorted(alerts, key=lambda a: (expected.accepted[a[4]].occurred_at, a[4], a[0]))
        for key, alerts in expected.alerts.items()
    }
    published = [orjson.loads(m.value()) for m in read_topic(brokers, settings.alerts_topic)]
    assert len(published) == sum(len(a) for a in expected.alerts.values())
    by_key: dict[tuple[str, str], list[tuple[str, int, int, int, str]]] = {}
    for a in published:  # one key per partition: arrival order is preserved per key
        by_key.setdefault((a["warehouse_id"], a["sku"]), []).append(
            (a["kind"], a["on_hand"], a["threshold"], a["reorder_quantity"], a["event_id"])
        )
    assert by_key == expected.alerts
    assert decisions_table(ch) == expected.decisions
    assert {d[5] for d in expected.decisions} >= {"granted", "checked_out", "released"}
    assert any(d[12] for d in expected.decisions)  # holds granted on backorder (v10)
    decided = [orjson.loads(m.value()) for m in read_topic(brokers, settings.hold_decisions_topic)]
    assert {(d["event_id"], d["decision"], d["version"]) for d in decided} == {
        (d[3], d[5], str(d[11])) for d in expected.decisions
    }
    events = ch.query(
        "SELECT event_id, event_type, quantity, delta, toUnixTimestamp64Milli(occurred_at) "
        "FROM events FINAL"
    ).result_rows
    assert len(events) == len(expected.accepted)
    for event_id, event_type, quantity, delta, occurred_ms in events:
        model = expected.accepted[event_id]
        assert (event_type, quantity, occurred_ms) == (
            model.event_type,
            model.quantity,
            to_ms(model.occurred_at),
        )
        assert delta == stock_delta(event_type, quantity)  # of the fact a request became

    dead = ch.query(
        "SELECT partition, offset, error, length(payload) FROM dead_letters FINAL"
    ).result_rows
    assert {(p, o) for p, o, _, _ in dead} == set(expected.dead)
    for partition, offset, error, size in dead:
        assert error, "every dead letter has a reason"
        assert size > 0, "the original payload is kept"
        assert error.startswith("late") == (expected.dead[(partition, offset)] == "late")

    dlq = read_topic(settings.kafka_brokers or "", settings.dlq_topic)
    assert sorted(
        (int(dict(m.headers())["source.partition"]), int(dict(m.headers())["source.offset"]))
        for m in dlq
    ) == sorted(expected.dead)


def test_replay_leaves_tables_unchanged(settings: Settings, ch: Client) -> None:
    expected, _ = produce_and_expect(settings, ch)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)

    def tables() -> dict[str, list[tuple[object, ...]]]:  # a replay's rows carry its lineage
        return {
            table: ch.query(
                f"SELECT * {'EXCEPT (lineage)' if table == 'stock_levels' else ''} "
                f"FROM {table} FINAL ORDER BY ALL"
            ).result_rows
            for table in ("events", "stock_levels", "dead_letters", "sales_rates", "alerts")
        }

    first = tables()
    written: Counter[str] = Counter()

    def count(table: str, rows: int) -> None:
        written[table] += rows

    # resuming from the snapshot taken at the end: nothing left to do
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True, on_write=count)
    assert sum(written.values()) == 0
    # without recovery state the keys are rebuilt from the tables and the messages they
    # already hold are skipped: only the dead letters are written again (they collapse)
    run_inventory(
        settings, settings.kafka_brokers or "", exit_at_end=True, recovery=False, on_write=count
    )
    assert set(written) == {"dead_letters"}  # malformed messages are decided again
    assert written["dead_letters"] <= len(expected.dead)
    assert tables() == first
    written.clear()
    # a second full pass over the same topic from zero state, on 2 workers (a pure replay
    # from offset 0): every row is written again and collapses
    run_inventory(
        settings,
        settings.kafka_brokers or "",
        exit_at_end=True,
        workers=2,
        recovery=False,
        on_write=count,
        seed=False,
    )
    assert written["events"] == len(expected.accepted)  # everything was written again
    assert tables() == first
    assert stock_table(ch) == expected.stock


def test_batch_size_does_not_change_any_table(
    make_settings: Callable[..., Settings], broker: str
) -> None:
    """Idempotency by row key: the same topic read in batches of 37 and of 5,000, on 1 and
    2 workers, into two databases, gives identical tables."""
    first = make_settings(kafka_brokers=broker, source_batch_size=37)
    produce_and_expect(first, _client_with_schema(first), WITH_HOLDS)
    second = make_settings(
        kafka_brokers=broker,
        source_batch_size=5000,
        clickhouse_database=first.clickhouse_database + "_b",
        events_topic=first.events_topic,
        alerts_topic=first.alerts_topic + "-b",
        dlq_topic=first.dlq_topic + "-b",
        data_dir=first.data_dir / "second",  # its own recovery state
    )
    second_client = _client_with_schema(second)
    write_catalog(second_client, second.clickhouse_database, catalog_of(WITH_HOLDS))
    second_client.close()
    run_inventory(first, broker, exit_at_end=True)
    run_inventory(second, broker, exit_at_end=True, workers=2)
    a = connect(first, database=first.clickhouse_database)
    b = connect(second, database=second.clickhouse_database)
    tables = ("events", "stock_levels", "dead_letters", "sales_rates", "alerts", "hold_decisions")
    for table in tables:
        columns = "* EXCEPT (lineage)" if table == "stock_levels" else "*"  # two stores
        query = f"SELECT {columns} FROM {table} FINAL ORDER BY ALL"
        assert a.query(query).result_rows == b.query(query).result_rows, table
    a.close()
    b.close()


def _client_with_schema(settings: Settings) -> Client:
    client = connect(settings)
    apply_migrations(client, settings.clickhouse_database)
    client.close()
    return connect(settings, database=settings.clickhouse_database)
