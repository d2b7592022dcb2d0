"""What the commands do, callable from the CLI and tests: run the flow (one process or a
local cluster), backfill, generate, demo, reset, and the progress line.

May import every layer below: the API and dashboards, ``dataflows``, ``sinks``,
``generators``, the clients, :mod:`inventory.core`. Prints nothing but through callbacks
(the demo's live view excepted).
"""
