"""Expand a panel's SQL the way Grafana and the ClickHouse plugin do before it runs.

Order, as in Grafana with ``grafana-clickhouse-datasource`` v4:

1. ``$__conditionalAll(condition, $var)`` (plugin frontend): ``1=1`` when ``$var`` is All
   or empty, else ``condition``;
2. template variables (Grafana): ``$var``, ``${var}``, ``${var:singlequote}``,
   ``${var:sqlstring}``, ``${var:raw}``, ``${var:csv}``; All means every option value;
3. the plugin's backend macros: ``$__timeFilter``, ``$__timeFilter_ms``, ``$__dateFilter``,
   ``$__dateTimeFilter``/``$__dt``, ``$__fromTime[_ms]``, ``$__toTime[_ms]``,
   ``$__timeInterval[_ms]``, ``$__interval_s`` (same SQL text as the plugin's macros.go).

Anything left starting with ``$`` raises :class:`MacroError`, so a typo in a dashboard
fails the tests instead of failing in front of ops.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from inventory.core.errors import InventoryError

ALL = "$__all"

_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)")
_MACRO = re.compile(r"\$__(\w+)")


class MacroError(InventoryError, ValueError):
    """The SQL uses a macro or variable that cannot be expanded."""


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it runs a query: time range, interval, variable values.

    ``variables`` maps a name to one value, a list of values, or :data:`ALL`;
    ``options`` lists every value of a variable (what All expands to).
    """

    time_from: datetime
    time_to: datetime
    interval_seconds: float = 60.0
    variables: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    options: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        if name not in self.variables:
            raise MacroError(f"unknown template variable ${name}")
        value = self.variables[name]
        if value == ALL or (not isinstance(value, str) and ALL in value):
            return list(self.options.get(name, ()))
        return [value] if isinstance(value, str) else list(value)

    def is_all(self, name: str) -> bool:
        value = self.variables.get(name)
        if value is None:
            raise MacroError(f"unknown template variable ${name}")
        return value == ALL or len(value) == 0 or (not isinstance(value, str) and ALL in value)


def expand(sql: str, ctx: QueryContext) -> str:
    """The SQL text ClickHouse receives from Grafana for this query and context."""
    text = _conditional_all(sql, ctx)
    text = _VARIABLE.sub(lambda m: _interpolate(m, ctx), text)
    text = _expand_macros(text, ctx)
    if "$" in text:
        raise MacroError(f"unexpanded '$' left in: {text}")
    return text


def _conditional_all(sql: str, ctx: QueryContext) -> str:
    marker = "$__conditionalAll("
    while (start := sql.find(marker)) >= 0:
        args, end = _arguments(sql, start + len(marker))
        args = [a.strip() for a in args]
        if len(args) < 2 or not args[-1].startswith("$"):
            raise MacroError("$__conditionalAll takes (condition, $variable)")
        condition = ",".join(args[:-1]).strip()
        name = args[-1].lstrip("$").strip("{}")
        sql = sql[:start] + ("1=1" if ctx.is_all(name) else condition) + sql[end:]
    return sql


def _interpolate(match: re.Match[str], ctx: QueryContext) -> str:
    name = match.group(1) or match.group(3)
    fmt = match.group(2) or "raw"
    values = ctx.values(name)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)
    if fmt == "sqlstring":
        return ",".join("'" + v.replace("'", "''") + "'" for v in values)
    if fmt in ("raw", "csv"):
        if fmt == "raw" and len(values) != 1:
            raise MacroError(f"${name} has {len(values)} values; give it a format")
        return ",".join(values)
    raise MacroError(f"unsupported variable format {fmt!r} for ${name}")


def _expand_macros(sql: str, ctx: QueryContext) -> str:
    out: list[str] = []
    pos = 0
    for match in _MACRO.finditer(sql):
        if match.start() < pos:
            continue
        name = match.group(1)
        macro = _MACROS.get(name)
        if macro is None:
            raise MacroError(f"unknown macro $__{name}")
        end = match.end()
        args: list[str] = []
        if end < len(sql) and sql[end] == "(":
            args, end = _arguments(sql, end + 1)
        out.append(sql[pos : match.start()])
        out.append(macro(ctx, [a.strip() for a in args]))
        pos = end
    out.append(sql[pos:])
    return "".join(out)


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """Comma-separated arguments from ``start`` to the matching ``)``; returns (args, end)."""
    depth = 0
    args: list[str] = []
    current: list[str] = []
    for i in range(start, len(sql)):
        char = sql[i]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                args.append("".join(current))
                return args, i + 1
            depth -= 1
        elif char == "," and depth == 0:
            args.append("".join(current))
            current = []
            continue
        current.append(char)
    raise MacroError(f"unbalanced parentheses after position {start}")


def _one(name: str, args: list[str]) -> str:
    if len(args) != 1:
        raise MacroError(f"$__{name} takes 1 argument, got {len(args)}")
    return args[0]


def _seconds(t: datetime) -> str:
    return f"toDateTime({int(t.timestamp())})"


def _millis(t: datetime) -> str:
    return f"fromUnixTimestamp64Milli({int(t.timestamp() * 1000)})"


def _date(t: datetime) -> str:
    return f"toDate('{t.strftime('%Y-%m-%d')}')"


def _between(column: str, low: str, high: str) -> str:
    return f"{column} >= {low} AND {column} <= {high}"


def _date_time_filter(ctx: QueryContext, args: list[str]) -> str:
    if len(args) != 2:
        raise MacroError(f"$__dateTimeFilter takes 2 arguments, got {len(args)}")
    day = _between(args[0], _date(ctx.time_from), _date(ctx.time_to))
    time = _between(args[1], _seconds(ctx.time_from), _seconds(ctx.time_to))
    return f"({day}) AND ({time})"


def _interval(ctx: QueryContext) -> int:
    return int(max(ctx.interval_seconds, 1))


_MACROS: dict[str, Callable[[QueryContext, list[str]], str]] = {
    "fromTime": lambda c, a: _seconds(c.time_from),
    "toTime": lambda c, a: _seconds(c.time_to),
    "fromTime_ms": lambda c, a: _millis(c.time_from),
    "toTime_ms": lambda c, a: _millis(c.time_to),
    "timeFilter": lambda c, a: _between(
        _one("timeFilter", a), _seconds(c.time_from), _seconds(c.time_to)
    ),
    "timeFilter_ms": lambda c, a: _between(
        _one("timeFilter_ms", a), _millis(c.time_from), _millis(c.time_to)
    ),
    "dateFilter": lambda c, a: _between(
        _one("dateFilter", a), _date(c.time_from), _date(c.time_to)
    ),
    "dateTimeFilter": _date_time_filter,
    "dt": _date_time_filter,
    "timeInterval": lambda c, a: (
        f"toStartOfInterval(toDateTime({_one('timeInterval', a)}), INTERVAL {_interval(c)} second)"
    ),
    "timeInterval_ms": lambda c, a: (
        f"toStartOfInterval(toDateTime64({_one('timeInterval_ms', a)}, 3), "
        f"INTERVAL {int(max(c.interval_seconds * 1000, 1))} millisecond)"
    ),
    "interval_s": lambda c, a: str(_interval(c)),
}
