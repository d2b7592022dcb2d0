"""``inventory sql``'s printing: a statement's own FORMAT is recognised; tables are never
cut, show NULL and say how many rows came back."""

from __future__ import annotations

import io

import pytest

from inventory.cli.sql_output import own_format, write_result


@pytest.mark.parametrize(
    ("statement", "own"),
    [
        ("SELECT 1 FORMAT Vertical", True),
        ("select * from t format JSONEachRow", True),
        ("SELECT 1 FORMAT CSV SETTINGS max_threads = 1", True),
        ("SELECT 1 FORMAT CSVWithNames\n", True),
        ("SELECT formatDateTime(now(), '%Y')", False),
        ("SELECT 'FORMAT JSON'", False),
        ("SELECT * FROM (SELECT 1 FORMAT JSON)", False),
        ("SELECT 1 -- FORMAT JSON", False),
        ("SELECT 1 /* FORMAT JSON */", False),
        ("SELECT `FORMAT TSV` FROM t", False),
    ],
)
def test_a_statements_own_format_is_recognised(statement: str, own: bool) -> None:
    assert own_format(statement) is own


def test_a_table_keeps_every_value_whole_shows_null_and_counts_rows() -> None:
    out = io.StringIO()  # piped: no terminal width to fit
    long_sku = "SKU-" + "0" * 120
    write_result(["warehouse_id", "sku", "po_id"], [("WH-01", long_sku, None)], "table", out)
    text = out.getvalue()
    assert "warehouse_id" in text and long_sku in text and "…" not in text
    assert "NULL" in text and "\\N" not in text
    assert text.rstrip().endswith("1 row")
    empty = io.StringIO()
    write_result(["a"], [], "table", empty)
    assert empty.getvalue().rstrip().endswith("0 rows")
