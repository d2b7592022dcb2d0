"""Where the flow reads from: the events topic (tailing, with committed offsets), a range
of it by Kafka timestamp, or files (JSON lines, Parquet) for a backfill.

Imports :mod:`inventory.core`, :mod:`inventory.kafka` and :mod:`inventory.runtime`.
"""
