"""Kafka: the one configuration builder of every client, topic creation, a producer that
fails loudly, and the local embedded broker.

Imports only :mod:`inventory.core`.
"""
