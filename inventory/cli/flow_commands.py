"""``inventory demo``, ``run`` and ``backfill``: the commands that run the dataflow."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import click

from inventory.cli.declare import command, fail
from inventory.cli.param_types import Count, Timestamp
from inventory.core.settings import Settings

RESUMES = "the dataflow stopped at a batch boundary; `inventory run` resumes from the last snapshot"


def say(line: str) -> None:
    """A status line on stderr (flushed: it may be piped)."""
    print(line, file=sys.stderr, flush=True)


class RowCounter(Counter[str]):
    """Rows written per table; ``report`` prints the ``rows written:`` line."""

    def add(self, table: str, rows: int) -> None:
        self[table] += rows

    def report(self) -> None:
        from inventory.app.progress import metric_sum

        summary = ", ".join(f"{table}={rows}" for table, rows in sorted(self.items()))
        duplicates = int(metric_sum("inventory_duplicates_dropped_total"))
        dropped = f"; {duplicates:,} duplicate event(s) dropped" if duplicates else ""
        say(f"rows written: {summary or 'none'}{dropped}")


@command(
    "demo",
    "the whole pipeline locally, end to end, with a live view",
    stopped=RESUMES,
    dataflow=True,
)
@click.option("--events", type=Count(1), default=5000, help="events to generate")
@click.option(
    "--seed", type=int, default=None, show_default="from the clock", help="generator seed"
)
@click.option("--workers", type=Count(1), default=1, help="dataflow worker threads")
@click.option(
    "--serve",
    is_flag=True,
    help="then keep going: live events, availability API and storefront (Ctrl-C stops)",
)
@click.option(
    "--history-days",
    type=Count(0),
    default=14,
    help="days of sales history first, for the demand-policy SKUs to learn from (0: none)",
)
def demo(
    settings: Settings,
    *,
    events: int,
    seed: int | None,
    workers: int,
    serve: bool,
    history_days: int,
) -> int:
    from inventory.app.demo import run_demo

    return run_demo(
        settings,
        events=events,
        seed=seed,
        workers=workers,
        serve=serve,
        history_days=history_days,
    )


@command("run", "run the dataflow (tails the topic until stopped)", stopped=RESUMES, dataflow=True)
@click.option("--exit-at-end", is_flag=True, help="stop when the topic is drained")
@click.option("--workers", type=Count(1), default=1, help="worker threads per process")
@click.option(
    "--processes",
    type=Count(1),
    default=1,
    help="processes of a local Bytewax cluster on this host (see docs/scaling.md)",
)
@click.option(
    "--no-recovery",
    is_flag=True,
    help="no snapshots: read the topic from the start, keys rebuilt from the tables",
)
@click.option(
    "--serve",
    is_flag=True,
    help="also serve the availability API and storefront in this process "
    "(INVENTORY_API_HOST/PORT; needed with embedded ClickHouse)",
)
def run(
    settings: Settings,
    *,
    exit_at_end: bool,
    workers: int,
    processes: int,
    no_recovery: bool,
    serve: bool,
) -> int:
    from inventory.app.progress import FlowProgress, Periodic
    from inventory.app.run import prepare_stream, run_stream

    brokers = prepare_stream(settings)
    written = RowCounter()
    with contextlib.ExitStack() as stack:
        every = settings.progress_seconds
        stack.enter_context(Periodic(FlowProgress(written).line, say, every))
        if serve:
            from inventory.availability.server import AvailabilityService

            service = stack.enter_context(AvailabilityService(settings))
            say(f"availability API and storefront: {service.server.url}/")
        try:
            run_stream(
                settings,
                brokers,
                processes=processes,
                workers=workers,
                exit_at_end=exit_at_end,
                recovery=not no_recovery,
                on_write=written.add,
            )
        finally:
            written.report()
    return 0


@command(
    "backfill",
    "process historical events: FILE (JSON lines, or .parquet), or a range of the topic",
    stopped="the backfill is partial; run it again to finish (a re-run is a replay)",
    dataflow=True,
)
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option(
    "--topic-range",
    is_flag=True,
    help="instead of a FILE: the events topic between --from and --to",
)
@click.option(
    "--from",
    "start",
    type=Timestamp(),
    default=None,
    show_default="all",
    help="RFC 3339: messages with a Kafka timestamp at or after this",
)
@click.option(
    "--to",
    "end",
    type=Timestamp(),
    default=None,
    show_default="all",
    help="RFC 3339: messages with a Kafka timestamp before this",
)
@click.option("--workers", type=Count(1), default=1, help="worker threads")
@click.option(
    "--force",
    is_flag=True,
    help="also when some keys have stock from events the input lacks: fold the input "
    "into their stock (stop the dataflow first)",
)
def backfill(
    settings: Settings,
    *,
    file: Path | None,
    topic_range: bool,
    start: int | None,
    end: int | None,
    workers: int,
    force: bool,
) -> int:
    from dataflows.sources.files import progress_total
    from generators.publish import progress_bar
    from inventory.app.backfill import BackfillConflict, run_backfill, run_topic_backfill
    from inventory.app.progress import FlowProgress, Periodic
    from inventory.clickhouse.migrations import migrate
    from inventory.kafka.local_broker import brokers_for

    if file is None and not topic_range:
        return fail("backfill needs a FILE (JSON lines or .parquet) or --topic-range")
    if file is not None and topic_range:
        return fail("give a FILE or --topic-range, not both")
    if file is not None and not file.is_file():
        return fail(f"backfill input not found: {file}", 1)
    migrate(settings)
    written = RowCounter()
    terminal = sys.stderr.isatty()  # a bar; else (logs) a line now and then
    lines = Periodic(FlowProgress(written, topic=file is None).line, say, settings.progress_seconds)
    try:
        with progress_bar(enabled=terminal) as bar, lines if not terminal else nullcontext():
            if file is None:
                task = bar.add_task(f"backfill {settings.events_topic} (messages)", total=None)
                run_topic_backfill(
                    settings,
                    brokers_for(settings),
                    start,
                    end,
                    workers=workers,
                    force=force,
                    on_progress=lambda n: bar.advance(task, n),
                    on_write=written.add,
                )
            else:
                task = bar.add_task(f"backfill {file.name}", total=progress_total(file))
                run_backfill(
                    settings,
                    file,
                    workers=workers,
                    force=force,
                    on_write=written.add,
                    on_progress=lambda n: bar.advance(task, n),
                )
    except BackfillConflict as exc:
        return fail(f"backfill refused: {exc}", exc.exit_code)
    written.report()
    return 0


COMMANDS = (demo, run, backfill)
