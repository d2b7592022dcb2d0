"""The catalog changelog: the catalog's names, prices and oversell policies published to
``INVENTORY_CATALOG_TOPIC`` (compacted, keyed by SKU) when the flow starts, so that the
availability API names and prices products without reading ClickHouse.

Delivery: every message acknowledged or :class:`~inventory.kafka.producer.DeliveryError`.
Catalog changes made while the flow runs show up at its next start, as its reorder
policies do.
"""

from __future__ import annotations

import logging

from inventory.clickhouse.catalog import oversell_of
from inventory.clickhouse.client import connect, database_name
from inventory.core.settings import Settings
from inventory.core.stock_changes import CatalogItem, encode_catalog
from inventory.kafka.config import kafka_connection
from inventory.kafka.producer import CheckedProducer

logger = logging.getLogger(__name__)

NAMES_AND_PRICES = (
    "SELECT sku, name, unit_price, oversell_policy, oversell_limit, "
    "ifNull(toUnixTimestamp64Milli(release_at), -1) "
    "FROM {db:Identifier}.products FINAL ORDER BY sku"
)


def publish_catalog(settings: Settings, brokers: str) -> int:
    """Publish every catalog entry's name and price; return how many (0 without a
    catalog topic)."""
    if not settings.catalog_topic:
        return 0
    client = connect(settings)
    try:
        rows = client.query(NAMES_AND_PRICES, parameters={"db": database_name(settings)})
        items = [
            CatalogItem(str(s), str(n), p, *oversell_of(str(o), int(limit), int(release)))
            for s, n, p, o, limit, release in rows.result_rows
        ]
    finally:
        client.close()
    producer = CheckedProducer(kafka_connection(settings, brokers), settings.kafka_timeout_seconds)
    for item in items:
        key, value = encode_catalog(item)
        producer.produce(settings.catalog_topic, value, key)
    producer.flush_or_raise()
    logger.info("catalog: %d names and prices published to %s", len(items), settings.catalog_topic)
    return len(items)
