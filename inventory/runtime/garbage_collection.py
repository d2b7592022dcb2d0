"""Python's cyclic garbage collector, tuned for a dataflow process.

The flow allocates millions of short-lived objects (decoded events, rows) that never form
cycles and are freed by reference counting. With the default threshold (700 allocations)
the collector still runs hundreds of times a second and, in its older generations, walks
the whole live heap (per-key state, the catalog). :func:`tune_for_streaming` moves what
exists at start to the permanent generation (``gc.freeze``) and raises the thresholds, so
collections are rarer and cheaper; cyclic garbage is still collected (a full collection
about every 250 million allocations, some minutes of a busy flow). The hot path makes
almost no tracked objects (records are untracked Structs), so a young generation of
500,000 costs no memory; it was 50,000 until issue 26 (about 5 % of the flow's time went
to collections that found nothing). Measured in bench/throughput.py (bench/README.md).
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)

THRESHOLDS = (500_000, 50, 10)


def tune_for_streaming() -> None:
    """Freeze the objects alive now and raise the collector's thresholds (idempotent)."""
    gc.freeze()
    if gc.get_threshold() != THRESHOLDS:
        gc.set_threshold(*THRESHOLDS)
        logger.debug("garbage collector thresholds %s", THRESHOLDS)
