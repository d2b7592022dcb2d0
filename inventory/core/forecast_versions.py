"""Forecast versions: what the batch layer's forecast job hands the stream (contract v12,
docs/contracts.md "inventory.forecasts"; docs/semantics.md "The forecast policy").

``inventory.forecasts`` (compacted and deleted after 60 days): one message per (warehouse,
SKU, version), keyed ``warehouse_id:sku:version``, value a JSON object ``warehouse_id``,
``sku``, ``version`` (the last day of history, YYYYMMDD), ``effective_at`` (RFC 3339: the
version applies to decisions from this event time on), ``first_day`` (``YYYY-MM-DD``,
the first forecast day), ``demand`` and ``variance`` (one number per day from
``first_day`` on). Publishing the same version again is idempotent.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import msgspec
import orjson

from inventory.core.times import format_ms, to_ms

DAY_MS = 86_400_000


class ForecastFormatError(ValueError):
    """A forecast message that does not have the documented shape."""


class ForecastVersion(msgspec.Struct, frozen=True):
    """One key's forecast of one version: daily means and variances from
    ``first_day_ms`` on, in effect for decisions at or after ``effective_ms``.
    :raises ForecastFormatError: lengths differ, no day, a figure below 0 or not finite,
        or ``first_day_ms`` not the start of a UTC day."""

    warehouse_id: str
    sku: str
    version: int
    effective_ms: int
    first_day_ms: int
    demand: tuple[float, ...]
    variance: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.demand) != len(self.variance) or not self.demand:
            raise ForecastFormatError("demand and variance need the same, non-zero length")
        if self.first_day_ms % DAY_MS:
            raise ForecastFormatError("first_day must start a UTC day")
        if any(not math.isfinite(x) or x < 0 for x in (*self.demand, *self.variance)):
            raise ForecastFormatError("demand and variance must be finite and >= 0")

    @property
    def end_ms(self) -> int:
        """The end of the last forecast day."""
        return self.first_day_ms + len(self.demand) * DAY_MS


def in_effect(versions: tuple[ForecastVersion, ...], at_ms: int) -> ForecastVersion | None:
    """The version in effect at ``at_ms``: the greatest ``effective_ms`` at or before it,
    ties to the greater version (None: none yet)."""
    best: ForecastVersion | None = None
    for v in versions:
        if v.effective_ms <= at_ms and (
            best is None or (v.effective_ms, v.version) > (best.effective_ms, best.version)
        ):
            best = v
    return best


def encode_forecast(v: ForecastVersion) -> tuple[bytes, bytes]:
    """Key and value of ``v``'s message."""
    key = f"{v.warehouse_id}:{v.sku}:{v.version}".encode()
    first = datetime.fromtimestamp(v.first_day_ms / 1000, UTC).date()
    value = {
        "warehouse_id": v.warehouse_id,
        "sku": v.sku,
        "version": v.version,
        "effective_at": format_ms(v.effective_ms),
        "first_day": first.isoformat(),
        "demand": list(v.demand),
        "variance": list(v.variance),
    }
    return key, orjson.dumps(value)


def decode_forecast(value: bytes) -> ForecastVersion:
    """The version in ``value``. :raises ForecastFormatError: not the documented shape."""
    try:
        d = orjson.loads(value)
        first = date.fromisoformat(d["first_day"])
        first_ms = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()) * 1000
        return ForecastVersion(
            str(d["warehouse_id"]),
            str(d["sku"]),
            int(d["version"]),
            to_ms(datetime.fromisoformat(d["effective_at"].replace("Z", "+00:00"))),
            first_ms,
            tuple(float(x) for x in d["demand"]),
            tuple(float(x) for x in d["variance"]),
        )
    except ForecastFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ForecastFormatError(f"not a forecast message: {exc}") from exc
