"""Named SQL queries of the flow and the commands: ``inventory/clickhouse/sql/queries/<name>.sql``.

Queries take ClickHouse server-side parameters (``{name:Type}``) and name tables without
a database: run them on a client opened on the configured database.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "sql" / "queries"


@cache
def query(name: str) -> str:
    """The text of ``inventory/clickhouse/sql/queries/<name>.sql``; raises
    ``FileNotFoundError`` if missing."""
    return (QUERIES_DIR / f"{name}.sql").read_text("utf-8")
