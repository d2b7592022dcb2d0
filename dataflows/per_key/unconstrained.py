"""A closed day's unconstrained demand: what it sold, plus what it lost while out of stock
and the hold requests refused for want of stock (docs/semantics.md, "Unconstrained
demand").

Pure: the key's stock movements in event time, its sales and refusals, its first event
time and its demand mean before the day. :class:`Timeline` folds the event-time on-hand
into each day's out-of-stock time up to the lateness cutoff (no event before it can still
be accepted, so a folded span is final) and keeps only the movements after it. Shares of a
day are weighted by the intraday profile (integer weights per UTC hour), in integer
arithmetic, so the independent model computes the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
FLAT_PROFILE = (1,) * 24
MIN_IN_STOCK_QUARTERS = 1  # the day's own sales scale up while at least 1/4 was in stock
MIN_FOLD_AT = 16  # movements pending before a fold (then twice what a fold leaves)

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
    """``[lo, hi)`` as profile-weighted milliseconds: each hour's overlap times its
    weight."""
    total = 0
    while lo < hi:
        end = min(hi, lo - lo % HOUR_MS + HOUR_MS)
        total += weights[(lo % DAY_MS) // HOUR_MS] * (end - lo)
        lo = end
    return total


@dataclass(slots=True)
class Timeline:
    """The key's event-time on-hand, folded up to ``fold_ms``: ``on_hand`` from there on,
    the out-of-stock time of the open days so far (day start -> (ms, weighted ms)), and
    the movements at or after ``fold_ms`` not folded yet."""

    pending: list[Move] = field(default_factory=list)
    fold_ms: int = -1  # -1: nothing folded yet (the fold starts at the first event)
    on_hand: int = 0
    empty: dict[int, tuple[int, int]] = field(default_factory=dict)
    fold_at: int = field(default=MIN_FOLD_AT, compare=False)  # when the next fold runs (not state)

    def copy(self) -> Timeline:
        return Timeline(list(self.pending), self.fold_ms, self.on_hand, dict(self.empty))

    def fold(self, upto_ms: int, first_ms: int, weights: Sequence[int]) -> None:
        """Fold the movements before ``upto_ms`` (the lateness cutoff, or a closing day's
        end below it) in (time, deltas before counts, count id) order, a count setting the
        on-hand, a delta adding to it; the spans at or below 0 go to their days."""
        t = self.fold_ms if self.fold_ms >= 0 else first_ms
        if t < 0 or upto_ms <= t:
            self.fold_at = max(MIN_FOLD_AT, 2 * len(self.pending))
            return
        done = sorted(m for m in self.pending if m[0] < upto_ms)
        if done:
            self.pending = [m for m in self.pending if m[0] >= upto_ms]
        on_hand = self.on_hand
        for ms, is_count, _, value in done:
            if ms > t:
                if on_hand <= 0:
                    self._empty(t, ms, weights)
                t = ms
            on_hand = value if is_count else on_hand + value
        if on_hand <= 0:
            self._empty(t, upto_ms, weights)
        self.fold_ms, self.on_hand = upto_ms, on_hand
        self.fold_at = max(MIN_FOLD_AT, 2 * len(self.pending))

    def _empty(self, lo: int, hi: int, weights: Sequence[int]) -> None:
        while lo < hi:
            day = lo - lo % DAY_MS
            end = min(hi, day + DAY_MS)
            out, weight = self.empty.get(day, (0, 0))
            self.empty[day] = (out + end - lo, weight + weighted_ms(weights, lo, end))
            lo = end


def close_day(
    day_ms: int,
    *,
    sold: int,
    refused: int,
    empty: tuple[int, int],
    first_ms: int,
    mean_before: float,
    weights: Sequence[int],
) -> ClosedDay:
    """The day's figures (module doc); ``empty``: its out-of-stock (ms, weighted ms)."""
    lo = max(day_ms, first_ms)
    out_ms, empty_w = empty
    estimate = 0.0
    if empty_w > 0:
        open_w = weighted_ms(weights, lo, day_ms + DAY_MS)
        stocked_w = open_w - empty_w
        if stocked_w * 4 >= open_w * MIN_IN_STOCK_QUARTERS:
            estimate = sold * empty_w / stocked_w
        else:
            estimate = mean_before * empty_w / (sum(weights) * HOUR_MS)
    lost = max(float(refused), estimate)
    return ClosedDay(day_ms, sold, refused, out_ms, lost, sold + lost)
