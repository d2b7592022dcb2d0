"""``inventory reset``: start the local data over.

Deletes what lives on this machine: the embedded ClickHouse database (every table, the
catalog and the migration record: the next command applies the schema again), the
dataflow's recovery state (snapshots and lineage) and the local broker's topics. It leaves
a ClickHouse server and configured Kafka brokers alone and says so: their data is not
"local", and dropping it is an operator's decision (docs/semantics.md, "Operations").
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from inventory.clickhouse.client import connect, database_name
from inventory.core.settings import Settings, redact_url
from inventory.kafka.config import admin_config
from inventory.kafka.local_broker import running_local_broker

logger = logging.getLogger(__name__)


@dataclass
class ResetPlan:
    """What a reset deletes, and what it leaves alone (with why)."""

    database: str | None = None  # embedded ClickHouse database to drop
    recovery: Path | None = None
    broker: str | None = None  # the local broker whose topics are deleted
    topics: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.database is None and self.recovery is None and not self.topics

    def lines(self, settings: Settings) -> list[str]:
        out = []
        if self.database is not None:
            where = settings.chdb_path()
            out.append(f"delete ClickHouse database {self.database} in {where} (all tables)")
        if self.recovery is not None:
            out.append(f"delete the dataflow's recovery state in {self.recovery}")
        if self.topics:
            out.append(f"delete topics {', '.join(self.topics)} on the local broker {self.broker}")
        return out + [f"leave alone: {reason}" for reason in self.untouched]


def plan_reset(settings: Settings) -> ResetPlan:
    plan = ResetPlan()
    if settings.is_embedded_clickhouse:
        database = database_name(settings)
        client = connect(settings)
        try:
            if client.command(f"EXISTS DATABASE {database}") == 1:
                plan.database = database
        finally:
            client.close()
    else:
        url = redact_url(settings.clickhouse_url.get_secret_value())
        plan.untouched.append(f"the ClickHouse server {url} (not local data)")
    if settings.recovery_path.exists():
        plan.recovery = settings.recovery_path
    if settings.use_local_broker:
        plan.broker = running_local_broker(settings)
        if plan.broker is not None:
            from confluent_kafka.admin import AdminClient

            existing = AdminClient(admin_config(plan.broker)).list_topics(timeout=30)
            ours = [settings.events_topic, settings.alerts_topic, settings.dlq_topic]
            ours += settings.published_topics
            plan.topics = [topic for topic in ours if topic in existing.topics]
    else:
        plan.untouched.append(f"the Kafka brokers {settings.kafka_brokers} (not local data)")
    return plan


def apply_reset(settings: Settings, plan: ResetPlan, timeout: float = 30.0) -> None:
    """Carry out ``plan``; raises the client's error if a part cannot be deleted (the
    parts before it stay deleted: run it again)."""
    if plan.database is not None:
        client = connect(settings)
        try:
            client.command(f"DROP DATABASE IF EXISTS {plan.database} SYNC")
        finally:
            client.close()
        logger.info("dropped database %s", plan.database)
    if plan.recovery is not None:
        shutil.rmtree(plan.recovery, ignore_errors=False)
        logger.info("deleted %s", plan.recovery)
    if plan.topics and plan.broker is not None:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(admin_config(plan.broker))
        doomed = plan.topics
        if doomed:
            for future in admin.delete_topics(doomed, operation_timeout=timeout).values():
                future.result(timeout)
            deadline = time.monotonic() + timeout
            while set(doomed) & set(admin.list_topics(timeout=timeout).topics):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"topics {', '.join(doomed)} still listed after deletion")
                time.sleep(0.1)
            logger.info("deleted topics %s", ", ".join(doomed))
