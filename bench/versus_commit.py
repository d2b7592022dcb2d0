"""Events/s of one flow process (1 worker) at this checkout against another commit's, in
the same run: each contender is a fresh process over the same generated topic.

Usage: .venv/bin/python bench/versus_commit.py [--commit c61a0ee] [--events 200000]
       [--rounds 3]

The other commit is checked out into a temporary git worktree (removed afterwards) and
run with this checkout's virtualenv (its dependencies must be a subset). Each run: a
local broker, the topic generated (seed 3, 10,000 keys, 1 % duplicates, 1 % late,
0.5 % malformed), the schema, then ``run_inventory(exit_at_end=True, workers=1)`` with
recovery on, timed; every setting at that commit's default. Rounds alternate the
contenders; the best round of each counts (the machine is shared). Prints events/s and
the ratio; writes bench/results-versus-commit.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMMIT = "c61a0ee"  # main before issue 26 (columnar hot path)

CHILD = """
import sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
try:  # the layout of issue 23 (inventory/core, clickhouse, kafka, app, ...)
    from inventory.app import run as runner
    from inventory.clickhouse.client import connect
    from inventory.clickhouse.migrations import apply_migrations
    from inventory.core.settings import Settings
    from inventory.kafka.local_broker import temporary_broker
    from inventory.kafka.topics import ensure_topics
except ImportError:  # the flat layout before it
    from inventory import runner
    from inventory.broker import temporary_broker
    from inventory.clickhouse import connect
    from inventory.kafka import ensure_topics
    from inventory.schema import apply_migrations
    from inventory.settings import Settings
run_inventory = runner.run_inventory
assert runner.__file__.startswith(sys.argv[1]), runner.__file__
events = int(sys.argv[2])
work = Path(tempfile.mkdtemp(prefix="bench-versus-"))
config = GeneratorConfig(seed=3, skus=2000, warehouses=5, rate=2000.0,
    malformed_share=0.005, duplicate_share=0.01, late_share=0.01)
with temporary_broker() as brokers:
    settings = Settings(_env_file=None, kafka_brokers=brokers, topic_partitions=4,
        clickhouse_url=f"chdb://{work / 'ch'}", data_dir=work / "data",
        clickhouse_database="bench")
    ensure_topics(settings, brokers)
    publish_to_kafka(EventGenerator(config).messages(events), brokers, settings.events_topic)
    client = connect(settings)
    apply_migrations(client, "bench")
    client.close()
    start = time.perf_counter()
    run_inventory(settings, brokers, exit_at_end=True, workers=1)
    print(events / (time.perf_counter() - start))
"""


def run_child(root: Path, events: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(events)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commit", default=DEFAULT_COMMIT)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    worktree = Path(tempfile.mkdtemp(prefix="bench-commit-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), args.commit],
        check=True,
        capture_output=True,
    )
    rates: dict[str, list[float]] = {args.commit: [], "this checkout": []}
    try:
        for round_no in range(args.rounds):
            for name, root in ((args.commit, worktree), ("this checkout", ROOT)):
                rate = run_child(root, args.events)
                rates[name].append(rate)
                print(f"round {round_no + 1} {name:>14}: {rate:>9,.0f} events/s", flush=True)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
            check=False,
            capture_output=True,
        )
    best = {name: max(values) for name, values in rates.items()}
    ratio = best["this checkout"] / best[args.commit]
    print(
        f"\nbest: {args.commit} {best[args.commit]:,.0f}, this checkout "
        f"{best['this checkout']:,.0f} events/s = {ratio:.2f}x"
    )
    out = Path(__file__).with_name("results-versus-commit.json")
    out.write_text(json.dumps({"events": args.events, "rates": rates, "ratio": ratio}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
