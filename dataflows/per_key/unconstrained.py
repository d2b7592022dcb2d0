"""A closed day's unconstrained demand: what it sold, plus what it lost while out of stock
and the hold requests refused for want of stock (docs/semantics.md, "Unconstrained
demand").

Pure: the day's stock movements in event time, the on-hand at its start, its sales and
refusals, the key's first event time and its demand mean before the day. Shares of a day
are weighted by the intraday profile (integer weights per UTC hour), in integer
arithmetic, so the independent model computes the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
FLAT_PROFILE = (1,) * 24
MIN_IN_STOCK_QUARTERS = 1  # the day's own sales scale up while at least 1/4 was in stock

# (occurred_ms, 1 for a count else 0, the count's event_id or "", its quantity or the delta)
Move = tuple[int, int, str, int]


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """A day's figures when it closed."""

    day_ms: int
    sold: int  # units of accepted sales that occurred in the day
    refused: int  # units of hold requests refused insufficient in the day
    out_of_stock_ms: int  # time the event-time on-hand was <= 0 (after the first event)
    lost: float  # max(refused, the estimate of sales lost out of stock)
    demand: float  # sold + lost


def weighted_ms(weights: Sequence[int], lo: int, hi: int) -> int:
    """``[lo, hi)`` (within one UTC day) as profile-weighted milliseconds: each hour's
    overlap times its weight."""
    total = 0
    while lo < hi:
        hour_end = lo - lo % HOUR_MS + HOUR_MS
        end = min(hi, hour_end)
        total += weights[(lo % DAY_MS) // HOUR_MS] * (end - lo)
        lo = end
    return total


def empty_spans(
    start_on_hand: int, moves: list[Move], lo: int, end: int
) -> tuple[list[tuple[int, int]], int]:
    """The spans of ``[lo, end)`` with the on-hand at or below 0, and the on-hand at
    ``end``: from ``start_on_hand``, the day's movements in (time, deltas before counts,
    count id) order, a count setting the on-hand, a delta adding to it."""
    spans: list[tuple[int, int]] = []
    on_hand = start_on_hand
    t = lo
    for ms, is_count, _, value in sorted(moves):
        if ms > t:
            if on_hand <= 0:
                spans.append((t, ms))
            t = ms
        on_hand = value if is_count else on_hand + value
    if on_hand <= 0 and end > t:
        spans.append((t, end))
    return spans, on_hand


def close_day(
    day_ms: int,
    *,
    sold: int,
    refused: int,
    moves: list[Move],
    start_on_hand: int,
    first_ms: int,
    mean_before: float,
    weights: Sequence[int],
) -> tuple[ClosedDay, int]:
    """The day's figures and the on-hand at its end (module doc)."""
    end = day_ms + DAY_MS
    lo = max(day_ms, first_ms)
    spans, end_on_hand = empty_spans(start_on_hand, moves, lo, end)
    out_ms = sum(b - a for a, b in spans)
    estimate = 0.0
    if spans:
        empty_w = sum(weighted_ms(weights, a, b) for a, b in spans)
        open_w = weighted_ms(weights, lo, end)
        stocked_w = open_w - empty_w
        if empty_w > 0 and stocked_w * 4 >= open_w * MIN_IN_STOCK_QUARTERS:
            estimate = sold * empty_w / stocked_w
        elif empty_w > 0:
            estimate = mean_before * empty_w / (sum(weights) * HOUR_MS)
    lost = max(float(refused), estimate)
    return ClosedDay(day_ms, sold, refused, out_ms, lost, sold + lost), end_on_hand
