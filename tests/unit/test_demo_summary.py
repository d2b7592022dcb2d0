"""The demo's purchase-order table: one row per status, the total as a footer (issue 36:
a total row named "opened" read as a status)."""

from __future__ import annotations

from rich.console import Console

from inventory.app.demo_summary import orders_table


def test_the_total_is_a_footer_not_a_status() -> None:
    rows = [("open", 3, 150, 0), ("received", 16, 800, 812)]
    table = orders_table(lambda _: rows)  # type: ignore[arg-type,return-value]
    assert table.columns[0].header == "status"
    statuses = list(table.columns[0].cells)
    assert statuses == ["open", "received"]  # no total among the statuses
    assert [c.footer for c in table.columns] == ["all opened (total)", "19", "950", "812"]
    console = Console(record=True, width=100)
    console.print(table)
    lines = console.export_text().splitlines()
    assert "all opened (total)" in lines[-2] and "19" in lines[-2]
