"""Real-time inventory tracking: Kafka -> Bytewax -> ClickHouse, with Grafana dashboards.

The layers, top to bottom; a layer imports only from layers below it (the import-linter
contract in ``pyproject.toml``, checked by ``make lint``; docs/architecture.md):

* :mod:`inventory.cli` - parsing arguments and printing; nothing else.
* :mod:`inventory.app` - what a command does: run, backfill, cluster, demo, reset.
* :mod:`inventory.availability`, :mod:`inventory.dashboards` - the storefront's API and
  Grafana as code.
* ``dataflows`` - the Bytewax flow: sources, decoding, the per-key logic.
* ``sinks``, ``generators`` - where rows go; where events come from in a demo.
* :mod:`inventory.clickhouse`, :mod:`inventory.kafka`, :mod:`inventory.runtime` - the
  clients and the process: one builder per external client, stopping, recovery, metrics.
* :mod:`inventory.core` - errors, settings, the event contract, the records.
"""
