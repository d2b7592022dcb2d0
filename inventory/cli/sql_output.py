"""``inventory sql``: statements split as ClickHouse reads them, results in four formats.

``table`` is for reading: values wrap to fit a terminal (never cut), are printed whole
when piped, NULL shows as ``NULL``, and a line says how many rows came back. ``tsv``,
``csv`` and ``json`` are for programs and never cut anything: TSV with ClickHouse's
escaping of tab, newline and backslash (NULL is ``\\N``); CSV per RFC 4180; JSON an
array of row objects per statement, one line each. Several statements print one result
after the other (a blank line apart in the text formats). A statement with a ``FORMAT``
clause of its own (``FORMAT Vertical``, ``JSONEachRow``, ...) prints the server's text
as it is (:func:`own_format`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO
from uuid import UUID

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "tsv", "csv", "json")


def split_statements(sql: str) -> list[str]:
    """Statements separated by ``;`` outside quotes, backticks and comments."""
    statements: list[str] = []
    current: list[str] = []
    i, quote = 0, ""
    while i < len(sql):
        char = sql[i]
        if quote:
            current.append(char)
            if char == "\\" and i + 1 < len(sql):
                current.append(sql[i + 1])
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
            continue
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


_FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+[A-Za-z_][A-Za-z0-9_]*\s*(?:SETTINGS\b|$)", re.I)


def own_format(statement: str) -> bool:
    """True when ``statement`` ends in a ``FORMAT <name>`` clause of its own (outside
    quotes, comments and brackets; a ``SETTINGS`` clause may follow it)."""
    return bool(_FORMAT_CLAUSE.search(_top_level(statement)))


def _top_level(sql: str) -> str:
    """``sql`` with quoted text, comments and bracketed parts blanked out."""
    out: list[str] = []
    depth, i, quote = 0, 0, ""
    while i < len(sql):
        char = sql[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
            out.append(" ")
        elif char in "'\"`":
            quote = char
            out.append(" ")
        elif sql.startswith("--", i) or sql.startswith("/*", i):
            end = sql.find("\n" if sql[i] == "-" else "*/", i + 2)
            i = len(sql) if end < 0 else end + (0 if sql[i] == "-" else 2)
            out.append(" ")
            continue
        elif char in "([":
            depth += 1
            out.append(" ")
        elif char in ")]":
            depth -= 1
            out.append(" ")
        else:
            out.append(char if depth == 0 else " ")
        i += 1
    return "".join(out).strip()


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _tsv(value: Any) -> str:
    text = _text(value)
    if value is None:
        return text
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, int) and not -(2**53) <= value <= 2**53:
        return str(value)  # beyond what JSON numbers carry exactly (e.g. UInt128 versions)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


def write_result(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: TextIO
) -> None:
    """One statement's result in ``fmt``."""
    if fmt == "tsv":
        out.write("\t".join(columns) + "\n")
        for row in rows:
            out.write("\t".join(_tsv(v) for v in row) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _text(v) for v in row] for row in rows])
    elif fmt == "json":
        records = [dict(zip(columns, (_json(v) for v in row), strict=True)) for row in rows]
        out.write(json.dumps(records, ensure_ascii=False) + "\n")
    else:
        write_table(columns, rows, out)


def write_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    """Rows for reading: wrapped to a terminal's width, whole when piped; a row count."""
    terminal = out.isatty()
    # piped: as wide as the widest row needs (rich would cut at 80 columns)
    console = Console(file=out, width=None if terminal else 1_000_000, highlight=False)
    table = Table(*columns, header_style="bold")
    for column in table.columns:
        column.overflow = "fold"
    for row in rows:
        table.add_row(*(("[dim]NULL[/]" if v is None else _escape(_text(v))) for v in row))
    console.print(table, crop=False)
    console.print(f"{len(rows)} row{'' if len(rows) == 1 else 's'}")


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
