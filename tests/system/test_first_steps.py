"""What a newcomer runs into first, as a newcomer runs it: ClickHouse's own FORMAT
clauses, whole table values, unreachable brokers and servers said in one line, a second
`generate` that adds events, a backfill asking for its input, `sql` beside a bad Kafka
pass-through, and the supplier's progress line."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

from inventory.kafka.local_broker import free_port
from tests.support.cli import Lines, clean_env, cli, spawn_cli


def test_sql_honours_a_format_clause_and_prints_whole_values(workdir: Path) -> None:
    assert cli(workdir, "schema", "apply").returncode == 0
    vertical = cli(workdir, "sql", "SELECT 1 AS a, NULL AS n FORMAT Vertical")
    assert vertical.returncode == 0, vertical.stderr
    assert vertical.stdout.startswith("Row 1:") and "a: 1" in vertical.stdout
    rows = cli(workdir, "sql", "SELECT number AS x FROM numbers(2) FORMAT JSONEachRow")
    assert [json.loads(line) for line in rows.stdout.splitlines()] == [{"x": 0}, {"x": 1}]
    csv = cli(workdir, "sql", "SELECT 'a,b' AS s FORMAT CSVWithNames")
    assert csv.stdout == '"s"\n"a,b"\n', csv.stdout
    wide = "SELECT 'WH-01' AS warehouse_id, 'SKU-00001' AS sku, NULL AS po_id, " + ", ".join(
        f"{n} AS column_{n}" for n in range(12)
    )
    table = cli(workdir, "sql", wide)  # piped: nothing cut at 80 columns
    assert "warehouse_id" in table.stdout and "SKU-00001" in table.stdout
    assert "column_11" in table.stdout and "…" not in table.stdout
    assert "NULL" in table.stdout and table.stdout.rstrip().endswith("1 row")
    empty = cli(workdir, "sql", "SELECT 1 AS a WHERE 0")
    assert empty.stdout.rstrip().endswith("0 rows")


def test_unreachable_services_are_one_line_naming_the_setting(workdir: Path) -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    kafka = cli(
        workdir,
        "generate",
        "--count",
        "5",
        "--no-catalog",
        INVENTORY_KAFKA_BROKERS=f"127.0.0.1:{port}",
        INVENTORY_KAFKA_CONNECT_TIMEOUT_SECONDS="2",
    )
    assert kafka.returncode == 1 and time.monotonic() - started < 30
    assert kafka.stderr.count("\n") == 1, kafka.stderr  # one line, no librdkafka lines
    assert "INVENTORY_KAFKA_BROKERS" in kafka.stderr and f"127.0.0.1:{port}" in kafka.stderr
    assert "within 2 s" in kafka.stderr and "Connection refused" in kafka.stderr
    clickhouse = cli(
        workdir,
        "sql",
        "SELECT 1",
        INVENTORY_CLICKHOUSE_URL=f"http://app:s3cr3t@127.0.0.1:{port}/inventory",
    )
    assert clickhouse.returncode == 1 and clickhouse.stderr.count("\n") == 1, clickhouse.stderr
    assert "INVENTORY_CLICKHOUSE_URL" in clickhouse.stderr and str(port) in clickhouse.stderr
    assert "s3cr3t" not in clickhouse.stderr and "HTTPConnectionPool" not in clickhouse.stderr


def test_a_second_generate_adds_events_and_a_seed_repeats_them(workdir: Path) -> None:
    def ids(*args: str) -> list[str]:
        out = cli(workdir, "generate", "--stdout", "--count", "20", *args).stdout
        return [json.loads(line)["event_id"] for line in out.splitlines()]

    first, second = ids(), ids()
    assert not set(first) & set(second)  # a second run's events are new
    assert ids("--seed", "5") == ids("--seed", "5")  # a seed repeats them
    produced = cli(workdir, "generate", "--count", "50", "--seed", "5")
    assert produced.returncode == 0, produced.stderr
    assert "repeats the same events" in produced.stderr  # and says so
    again = cli(workdir, "generate", "--count", "50", "--seed", "5")
    run = cli(workdir, "run", "--exit-at-end")
    assert run.returncode == 0 and again.returncode == 0, run.stderr
    dropped = re.search(r"(\d+) duplicate event\(s\) dropped", run.stderr)
    assert dropped and int(dropped.group(1)) >= 50, run.stderr  # the repeat, counted


def test_backfill_asks_for_its_input_and_sql_runs_beside_a_bad_kafka_setting(
    workdir: Path,
) -> None:
    nothing = cli(workdir, "backfill")
    assert nothing.returncode == 2
    assert "backfill needs a FILE (JSON lines or .parquet) or --topic-range" in nothing.stderr
    assert cli(workdir, "schema", "apply").returncode == 0
    # only commands that use Kafka check its pass-through (README, INVENTORY_KAFKA_CONFIG)
    sql = cli(workdir, "sql", "SELECT 1", INVENTORY_KAFKA_CONFIG='{"no.such.property": 1}')
    assert sql.returncode == 0, sql.stderr
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "stops every command that uses Kafka at start" in readme


def test_the_supplier_prints_a_progress_line(workdir: Path) -> None:
    env = clean_env(INVENTORY_PROGRESS_SECONDS="0.2")
    supplier = spawn_cli(env, workdir, "supplier", session=True)
    lines = Lines(supplier)
    line = lines.wait_for(lambda text: "reorder request(s) taken" in text)
    assert re.fullmatch(
        r"supplier: \d+ reorder request\(s\) taken, \d+ restock\(s\) delivered, \d+ pending", line
    )
    supplier.send_signal(signal.SIGTERM)
    code, err = lines.finish()
    assert code == 0 and "stopped on SIGTERM" in err, err
