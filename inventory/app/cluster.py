"""``inventory run --processes N``: the dataflow as a Bytewax cluster of N processes on this
host (loopback addresses), through the same entry point as every run (``cli_main``).

This process is process 0; it starts processes 1..N-1 as ``python -m inventory.app.cluster``
with the same settings (as ``INVENTORY_*`` variables), the addresses and a context file:
the lineage, and with embedded ClickHouse, the catalog and seeds (only process 0 may open
chDB; every row is routed to its sink, see :mod:`dataflows.placement`). The processes
share the recovery directory. A stop request (SIGTERM, SIGINT) is passed on to them; if
one process fails or dies, the cluster fails loudly (the others' connections break) and
the remaining processes are stopped. A restart resumes from the snapshots, with any
number of processes (rescaling): the recovery partitions are created for at least
processes x workers.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import SecretStr

from dataflows.assembly import ClusterContext, cluster_context
from dataflows.placement import Placement
from inventory.app.run import run_inventory
from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.errors import ClusterError
from inventory.core.settings import ENV_PREFIX, Settings, load_settings
from inventory.kafka.local_broker import free_port
from inventory.runtime.recovery import flow_lineage, recovery_config
from inventory.runtime.stopping import STOP
from sinks.clickhouse import WriteHook

logger = logging.getLogger(__name__)


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``INVENTORY_*`` variables that reproduce them (secrets too: for
    child processes only, never printed)."""
    return {
        ENV_PREFIX + name.upper(): _as_variable(value)
        for name, value in settings
        if value is not None
    }


def _as_variable(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.resolve())
    return str(value)


def local_addresses(processes: int) -> tuple[str, ...]:
    return tuple(f"127.0.0.1:{free_port()}" for _ in range(processes))


@contextlib.contextmanager
def _passing_on_stop(children: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    """Send SIGTERM to the children once this process is asked to stop."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if STOP.wait(0.2):
                for child in children:
                    if child.poll() is None:
                        child.send_signal(signal.SIGTERM)
                return

    watcher = threading.Thread(target=watch, name="cluster-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()


def run_local_cluster(
    settings: Settings,
    brokers: str,
    *,
    processes: int,
    workers: int,
    exit_at_end: bool,
    recovery: bool = True,
    on_write: WriteHook | None = None,
) -> None:
    """Run the flow as ``processes`` processes of ``workers`` threads; see the module doc.

    Raises :class:`ClusterError` if another process fails, or this process's error."""
    addresses = local_addresses(processes)
    path = settings.data_dir.resolve() / "cluster" / f"context-{uuid.uuid4().hex}.pickle"
    context = prepare_context(settings, path, recovery=recovery, workers=processes * workers)
    env = {**os.environ, **settings_environment(settings), "INVENTORY_KAFKA_BROKERS": brokers}
    env[ENV_PREFIX + "LOG_LEVEL"] = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    command = [sys.executable, "-m", "inventory.app.cluster", "--addresses", ";".join(addresses)]
    command += ["--workers", str(workers), "--context", str(path)]
    command += ["--exit-at-end"] if exit_at_end else []
    command += [] if recovery else ["--no-recovery"]
    children = [
        # stderr: the terminal (this process's fd 2 may be the native-output pipe)
        subprocess.Popen(
            [*command, "--process", str(k)], env=env, stdin=subprocess.DEVNULL, stderr=sys.stderr
        )
        for k in range(1, processes)
    ]
    logger.info("local cluster: %d processes at %s", processes, ", ".join(addresses))
    failed: BaseException | None = None
    try:
        with _passing_on_stop(children):
            run_inventory(
                settings,
                brokers,
                exit_at_end=exit_at_end,
                workers=workers,
                recovery=recovery,
                on_write=on_write,
                placement=Placement(0, addresses, workers),
                context=context,
            )
    except BaseException as exc:
        failed = exc
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        failures = _failures([_wait(child) for child in children])
        if isinstance(exc, ClusterError) and failures:
            raise ClusterError(failures) from exc  # say which process went away
        raise
    finally:
        if failed is None:
            failures = _failures([_wait(child) for child in children])
        path.unlink(missing_ok=True)
    if failures:
        raise ClusterError(failures)


def prepare_context(
    settings: Settings, path: Path, *, recovery: bool, workers: int
) -> ClusterContext:
    """Process 0, before the cluster starts: the recovery store (partitions for at least
    ``workers``, the cluster's total) and its lineage, and the context for the other
    processes, saved at ``path``."""
    if recovery:
        recovery_config(settings, minimum=workers)
    context = cluster_context(settings, flow_lineage(settings, recovery=recovery))
    context.save(path)
    return context


def _failures(codes: list[int]) -> str:
    """What went wrong with processes 1.. given their exit codes ('' if nothing)."""
    bad = [
        f"process {k} {_exit_text(code)}"
        for k, code in enumerate(codes, start=1)
        if code not in (0, 130)
    ]
    if not bad:
        return ""
    return ", ".join(bad) + "; the cluster stopped (a restart resumes from the snapshots)"


def _exit_text(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _wait(child: subprocess.Popen[bytes]) -> int:
    try:
        return child.wait(60)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait(10)


def main(argv: Sequence[str] | None = None) -> int:
    """One process of a cluster: processes 1..N-1 of :func:`run_local_cluster`, or any
    process of a cluster started by hand on several hosts that share a filesystem (the
    recovery directory and, with embedded ClickHouse, the data path and the context
    file): process 0 applies the migrations and writes the context, the others wait for
    it. The topics must exist."""
    from inventory.runtime.process_setup import prepare_entry_process

    parser = argparse.ArgumentParser(prog="python -m inventory.app.cluster")
    parser.add_argument("--process", type=int, required=True)
    parser.add_argument("--addresses", required=True, help="host:port;host:port;...")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--context", type=Path, required=True)
    parser.add_argument("--exit-at-end", action="store_true")
    parser.add_argument("--no-recovery", action="store_true")
    args = parser.parse_args(argv)
    prepare_entry_process(f"process {args.process} of the cluster stopped")
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    placement = Placement(args.process, tuple(args.addresses.split(";")), args.workers)
    recovery = not args.no_recovery
    if args.process == 0 and not args.context.exists():
        client = connect(settings)
        try:
            apply_migrations(client, database_name(settings))
        finally:
            client.close()
        context = prepare_context(
            settings, args.context, recovery=recovery, workers=placement.workers
        )
    else:
        context = ClusterContext.load(args.context, wait_seconds=120)
    run_inventory(
        settings,
        settings.kafka_brokers or "",
        exit_at_end=args.exit_at_end,
        workers=args.workers,
        recovery=recovery,
        placement=placement,
        context=context,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
