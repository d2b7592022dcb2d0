"""The process a flow runs in: clean stop on signals, peer heartbeats, Bytewax recovery
and lineage, Prometheus metrics, native stderr to the log, garbage-collector tuning.

Imports only :mod:`inventory.core`.
"""
