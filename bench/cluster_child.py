"""One process of a benchmark cluster: ``inventory.app.cluster``'s process with the rows sink
replaced by a discard sink (what the flow costs without ClickHouse writes).

Usage (by bench/throughput.py): python bench/cluster_child.py --process K --addresses
"h:p;h:p" --context FILE --exit-at-end, with the INVENTORY_* settings in the environment.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataflows import assembly
from inventory.app.cluster import main
from sinks.discard import DiscardSink


def _discard(*args: Any, **kwargs: Any) -> DiscardSink:
    return DiscardSink()


if __name__ == "__main__":
    assembly.ClickHouseSink = _discard  # type: ignore[assignment,misc]
    sys.exit(main())
