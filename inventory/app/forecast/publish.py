"""Publishing a forecast run's versions to ``INVENTORY_FORECAST_TOPIC`` (contract v12), for
the flow's ``forecast`` SKUs (docs/semantics.md, "The forecast policy").

A version made from history through day D forecasts D + 1 onwards and takes effect at the
start of D + 2: the job runs after D closes, so the version is out a day before the
decisions that use it, and a replay decides with the versions a live run had.
Delivery: every message acknowledged or
:class:`~inventory.kafka.producer.DeliveryError`; publishing a version again is idempotent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from inventory.app.forecast.history import day_ms
from inventory.core.forecast_versions import ForecastVersion, encode_forecast
from inventory.core.settings import Settings
from inventory.kafka.config import kafka_connection
from inventory.kafka.producer import CheckedProducer

logger = logging.getLogger(__name__)

EFFECTIVE_AFTER_DAYS = 2  # a version through D applies from the start of D + 2


def versions_of(
    version: int,
    through: date,
    days: Iterable[Sequence[Any]],
    effective_after_days: int = EFFECTIVE_AFTER_DAYS,
) -> list[ForecastVersion]:
    """One version per key from ``demand_forecasts`` rows (warehouse_id, sku, version,
    day, demand, variance, ...) of one run, days in order, in effect from the start of
    ``through`` + ``effective_after_days``."""
    by_key: dict[tuple[str, str], list[tuple[date, float, float]]] = defaultdict(list)
    for wh, sku, _, day, mean, variance, *_ in days:
        by_key[(str(wh), str(sku))].append((day, float(mean), float(variance)))
    first = day_ms(through + timedelta(days=1))
    effective = day_ms(through + timedelta(days=effective_after_days))
    return [
        ForecastVersion(
            wh,
            sku,
            version,
            effective,
            first,
            tuple(m for _, m, _ in sorted(rows)),
            tuple(v for _, _, v in sorted(rows)),
        )
        for (wh, sku), rows in sorted(by_key.items())
    ]


def publish_versions(settings: Settings, brokers: str, versions: list[ForecastVersion]) -> int:
    """Publish ``versions``; how many (0 without a forecast topic)."""
    if not settings.forecast_topic or not versions:
        return 0
    producer = CheckedProducer(kafka_connection(settings, brokers), settings.kafka_timeout_seconds)
    for v in versions:
        key, value = encode_forecast(v)
        producer.produce(settings.forecast_topic, value, key)
    producer.flush_or_raise()
    logger.info("forecast: %d versions published to %s", len(versions), settings.forecast_topic)
    return len(versions)
