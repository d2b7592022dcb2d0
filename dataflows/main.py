"""Entry for ``python -m bytewax.run "dataflows.main:flow()"``: the flow the image runs.

Configured by ``INVENTORY_*`` settings like every command; ``INVENTORY_KAFKA_BROKERS`` is
required (a container has no local broker). The catalog is read from ClickHouse once, at
start; the schema must exist (compose's ``schema`` service applies it first).

Recovery: pass bytewax.run ``-r $INVENTORY_RECOVERY_DIR -s $INVENTORY_EPOCH_SECONDS
-b 0`` (``-s`` takes whole seconds). This module creates the recovery partitions there
on first start, the layout ``inventory run`` uses, so either resumes the other's snapshots.
Raises :class:`~inventory.settings.SettingsError` naming the variable on bad config.

SIGTERM (``docker stop``) and SIGINT stop the flow at its next batch: it snapshots,
flushes its producers and exits 0 (130 after SIGINT) with one line; a restart resumes
exactly. Native stderr (Rust panics) goes to the log (``INVENTORY_LOG_LEVEL=DEBUG``
shows it); an error prints one line.
"""

from __future__ import annotations

import logging

from bytewax.dataflow import Dataflow

from dataflows.inventory import build_flow
from inventory.entry import prepare_entry_process
from inventory.metrics import serve_metrics
from inventory.recovery import flow_lineage, recovery_config
from inventory.runner import load_policy_book, stock_seeder
from inventory.settings import SettingsError, load_settings
from sinks.clickhouse import ClickHouseSink
from sinks.kafka import dead_letter_sink

logger = logging.getLogger(__name__)


def flow() -> Dataflow:
    """The tailing inventory flow from the environment's settings."""
    prepare_entry_process("the dataflow stopped at a batch boundary; a restart resumes")
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    if settings.kafka_brokers is None:
        raise SettingsError(
            "INVENTORY_KAFKA_BROKERS must be set for bytewax.run (e.g. redpanda:9092)"
        )
    recovery = settings.recovery_dir is not None
    if recovery:
        recovery_config(settings)  # creates the partitions on first start
    lineage = flow_lineage(settings, recovery=recovery)
    serve_metrics(settings)
    logger.info("inventory flow for %s, lineage %s", settings.kafka_brokers, lineage)
    return build_flow(
        settings,
        settings.kafka_brokers,
        policies=load_policy_book(settings),
        tail=True,
        rows_sink=ClickHouseSink(
            settings, rejects=dead_letter_sink(settings, settings.kafka_brokers)
        ),
        lineage=lineage,
        seeder=stock_seeder(settings, lineage),
    )
