"""The Bytewax dataflow: sources (``sources``), decoding, the per-key logic
(``per_key``), seeds from the tables, and its assembly for one process of a cluster.

Sits above ``sinks`` and ``generators`` and the clients; never imports
:mod:`inventory.app`, :mod:`inventory.cli`, the API or the dashboards.
"""
