"""``inventory backtest --plot``: stock over time of a few keys under both policies, as
one self-contained SVG (or an HTML page holding it with the figures), no plotting
library needed. Steps are drawn as they happened; where a line has more changes than
the chart has pixels, each pixel column keeps its lowest and highest stock (stock-outs
stay visible)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from generators.demand import DAY_MS
from inventory.app.backtest.compare import Comparison

WIDTH, HEIGHT, MARGIN = 880, 200, 48
COLORS = {"static": "#d9822b", "demand": "#2b6cb0", "forecast": "#2f855a"}
Timeline = list[tuple[int, int]]


def render_svg(comparison: Comparison, start_ms: int, end_ms: int) -> str:
    """One chart per plotted key, stacked, with a legend."""
    charts = list(comparison.timelines.items())
    total = 40 + len(charts) * (HEIGHT + MARGIN)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 2 * MARGIN}" '
        f'height="{total}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for n, name in enumerate(COLORS):
        x = MARGIN + n * 260
        parts.append(
            f'<line x1="{x}" y1="20" x2="{x + 24}" y2="20" stroke="{COLORS[name]}" '
            f'stroke-width="2"/><text x="{x + 30}" y="24">{name} policy</text>'
        )
    warmup_ms = start_ms + round(comparison.warmup_days * DAY_MS)
    for n, ((warehouse, sku), lines) in enumerate(charts):
        top = 40 + n * (HEIGHT + MARGIN)
        title = f"{warehouse} · {sku}"
        parts.append(
            _chart(title, lines, start_ms=start_ms, end_ms=end_ms, warmup_ms=warmup_ms, top=top)
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _chart(
    title: str, lines: dict[str, Timeline], *, start_ms: int, end_ms: int, warmup_ms: int, top: int
) -> str:
    peak = max((units for line in lines.values() for _, units in line), default=1) or 1
    span = max(end_ms - start_ms, 1)

    def x(ms: int) -> float:
        return MARGIN + (ms - start_ms) / span * WIDTH

    def y(units: int) -> float:
        return top + 24 + (1 - max(units, 0) / peak) * (HEIGHT - 40)

    out = [
        f'<text x="{MARGIN}" y="{top + 14}" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{MARGIN}" y="{top + 24}" width="{x(warmup_ms) - MARGIN:.1f}" '
        f'height="{HEIGHT - 40}" fill="#f2f2f2"/>',
        f'<text x="{MARGIN + 4}" y="{top + 38}" fill="#888">warm-up</text>',
        f'<text x="{MARGIN - 6}" y="{y(peak) + 4:.1f}" text-anchor="end">{peak}</text>',
        f'<text x="{MARGIN - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
    ]
    days = (end_ms - start_ms) // DAY_MS
    for day in range(0, days + 1, 7):
        at = x(start_ms + day * DAY_MS)
        out.append(
            f'<text x="{at:.1f}" y="{top + HEIGHT - 2}" text-anchor="middle">day {day}</text>'
        )
    for name, line in lines.items():
        points = _steps(_thin(line, start_ms, span), end_ms)
        path = " ".join(f"{x(ms):.1f},{y(units):.1f}" for ms, units in points)
        out.append(
            f'<polyline fill="none" stroke="{COLORS.get(name, "#333")}" stroke-width="1.5" '
            f'points="{path}"/>'
        )
    return "\n".join(out)


def _thin(line: Timeline, start_ms: int, span: int) -> Timeline:
    """At most the lowest and highest stock per pixel column, in time order."""
    if len(line) <= 2 * WIDTH:
        return line
    columns: dict[int, list[tuple[int, int]]] = {}
    for ms, units in line:
        columns.setdefault(int((ms - start_ms) / span * WIDTH), []).append((ms, units))
    out: Timeline = []
    for points in columns.values():
        low = min(points, key=lambda p: p[1])
        high = max(points, key=lambda p: p[1])
        out.extend(sorted({low, high, points[-1]}))
    return out


def _steps(line: Timeline, end_ms: int) -> Timeline:
    """Step-after points: each level holds until the next change, the last to the end."""
    out: Timeline = []
    for n, (ms, units) in enumerate(line):
        if n:
            out.append((ms, line[n - 1][1]))
        out.append((ms, units))
    if line:
        out.append((end_ms, line[-1][1]))
    return out


def write_plot(path: Path, comparison: Comparison, start_ms: int, end_ms: int, table: str) -> None:
    """Write the chart to ``path``: ``.svg`` alone, ``.html`` with ``table`` (the figures
    as printed) above it."""
    svg = render_svg(comparison, start_ms, end_ms)
    if path.suffix.lower() == ".svg":
        path.write_text(svg + "\n")
        return
    path.write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Backtest: static, demand and forecast policies</title></head>"
        '<body style="font-family: sans-serif">'
        "<h1>Backtest: static, demand and forecast policies</h1>"
        f"<pre>{escape(table)}</pre>\n{svg}\n"
        "</body></html>\n"
    )
