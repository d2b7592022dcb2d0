"""ClickHouse: the one client factory, error classification by code, versioned schema
migrations (the SQL files in ``sql/``, package data), named queries and the catalog.

Imports only :mod:`inventory.core`.
"""
