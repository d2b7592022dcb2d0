"""Synthetic inventory events (the load generator) and the supplier simulator that answers
reorder requests, with their Kafka publishing.

Imports the clients and :mod:`inventory.core`; never ``dataflows`` or anything above.
"""
