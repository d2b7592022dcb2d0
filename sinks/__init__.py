"""Bytewax sinks: rows to ClickHouse (one writer process with embedded ClickHouse), alerts
and dead letters to Kafka, and a discarding sink.

Imports the clients and :mod:`inventory.core`; never ``dataflows`` or anything above.
"""
