"""Python's cyclic garbage collector, tuned for a dataflow process.

The flow allocates millions of short-lived objects (decoded events, rows) that never form
cycles and are freed by reference counting. With the default threshold (700 allocations)
the collector still runs hundreds of times a second and, in its older generations, walks
the whole live heap (per-key state, the catalog). :func:`tune_for_streaming` moves what
exists at start to the permanent generation (``gc.freeze``) and raises the thresholds, so
collections are rarer and cheaper; cyclic garbage is still collected. Measured in
bench/throughput.py (bench/README.md).
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)

THRESHOLDS = (50_000, 20, 100)


def tune_for_streaming() -> None:
    """Freeze the objects alive now and raise the collector's thresholds (idempotent)."""
    gc.freeze()
    if gc.get_threshold() != THRESHOLDS:
        gc.set_threshold(*THRESHOLDS)
        logger.debug("garbage collector thresholds %s", THRESHOLDS)
