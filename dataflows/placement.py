"""Where this process sits in the dataflow's cluster, and what it may touch.

A Bytewax cluster is N processes, each with W worker threads, that know each other's
addresses (``host:port``, one per process, the same list everywhere) and their own index
in it. Kafka partitions and keys are spread over all N x W workers; Bytewax routes each
key to the worker that owns it, wherever it runs.

ClickHouse: a server takes writes from every process. Embedded ClickHouse (chDB) opens a
data path in one process only, so in a cluster only process 0 reads or writes it: every
row is routed to a single sink partition that only process 0 lists (Bytewax makes a
worker that lists a partition its primary), and the other processes get the catalog and
the seeds from process 0 at start (:mod:`dataflows.assembly`).

The environment variables are bytewax.run's own (``BYTEWAX_PROCESS_ID``,
``BYTEWAX_ADDRESSES`` separated by ``;``, ``BYTEWAX_WORKERS_PER_PROCESS``), so the
container entry and ``inventory run --processes`` describe a cluster the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from inventory.core.key_shards import shard_process
from inventory.core.settings import Settings, SettingsError


@dataclass(frozen=True)
class Placement:
    """This process's index in the cluster and every process's address (empty: alone)."""

    process_id: int = 0
    addresses: tuple[str, ...] = ()
    workers_per_process: int = 1

    @property
    def processes(self) -> int:
        return max(1, len(self.addresses))

    @property
    def workers(self) -> int:
        return self.processes * self.workers_per_process

    def reaches_clickhouse(self, settings: Settings) -> bool:
        """A server: every process; chDB: process 0 only."""
        return not settings.is_embedded_clickhouse or self.process_id == 0

    def single_writer(self, settings: Settings) -> bool:
        """Rows must all go to process 0 (embedded ClickHouse, several processes)."""
        return settings.is_embedded_clickhouse and self.processes > 1

    def reads_partition(self, shards: int) -> Callable[[int], bool] | None:
        """Which Kafka partitions this process reads: those whose key shard (partition
        mod ``shards``) runs on one of its workers, so a well-keyed partition's events
        never leave it; ``None`` (all) for a process alone."""
        if self.processes == 1:
            return None
        processes, workers, me = self.processes, self.workers_per_process, self.process_id
        return lambda partition: shard_process(partition % shards, processes, workers) == me

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Placement:
        """The placement bytewax.run reads from its environment variables."""
        raw = environ.get("BYTEWAX_ADDRESSES", "").strip()
        addresses = tuple(a.strip() for a in raw.split(";") if a.strip())
        try:
            process_id = int(environ.get("BYTEWAX_PROCESS_ID", "0"))
            workers = int(environ.get("BYTEWAX_WORKERS_PER_PROCESS", "1"))
        except ValueError:
            raise SettingsError(
                "BYTEWAX_PROCESS_ID and BYTEWAX_WORKERS_PER_PROCESS must be integers"
            ) from None
        if addresses and not 0 <= process_id < len(addresses):
            raise SettingsError(
                f"BYTEWAX_PROCESS_ID={process_id} is not an index into BYTEWAX_ADDRESSES "
                f"({len(addresses)} address(es))"
            )
        return cls(process_id, addresses, max(1, workers))

    @classmethod
    def from_bytewax_run(
        cls, argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ
    ) -> Placement:
        """The placement of a ``python -m bytewax.run`` process: its ``-i``, ``-a`` and
        ``-w`` options where given, else the environment (as bytewax.run does)."""
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("-i", "--process-id")
        parser.add_argument("-a", "--addresses")
        parser.add_argument("-w", "--workers-per-process")
        known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
        merged = dict(environ)
        for option, variable in (
            ("process_id", "BYTEWAX_PROCESS_ID"),
            ("addresses", "BYTEWAX_ADDRESSES"),
            ("workers_per_process", "BYTEWAX_WORKERS_PER_PROCESS"),
        ):
            if getattr(known, option) is not None:
                merged[variable] = getattr(known, option)
        return cls.from_environment(merged)
