"""A stock reader for unit tests of the availability store and API."""

from __future__ import annotations

from inventory.availability.store import StockRow


class FakeReader:
    """Serves ``rows`` (every version, like the table before FINAL) and ``names``;
    ``fail`` makes the next reads raise ``ConnectionError``."""

    def __init__(self, rows: list[StockRow], names: dict[str, str] | None = None) -> None:
        self.rows = rows
        self.names = names or {}
        self.fail = False
        self.now_ms = 0  # the reader's clock
        self.calls: list[str] = []

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if self.fail:
            raise ConnectionError("ClickHouse down")

    def read_all(self) -> tuple[int, list[StockRow], dict[str, str]]:
        self._check("all")
        latest: dict[tuple[str, str], StockRow] = {}
        for row in self.rows:  # what FINAL picks: highest version, the last of equals
            key = (row.sku, row.warehouse_id)
            if key not in latest or row.version >= latest[key].version:
                latest[key] = row
        return self.now_ms, list(latest.values()), dict(self.names)

    def read_since(self, written_ms: int) -> tuple[int, list[StockRow]]:
        self._check(f"since {written_ms}")
        return self.now_ms, [row for row in self.rows if row.written_ms >= written_ms]
