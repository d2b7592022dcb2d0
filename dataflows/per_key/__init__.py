"""Everything computed per (warehouse_id, sku), as pure functions of the accepted events:
stock (dedup, lateness, counts), holds, sales windows, alert bands, purchase orders, and
the key book that applies them in order and encodes the key's state.

Imports only :mod:`inventory.core`: no clients, no Bytewax.
"""
