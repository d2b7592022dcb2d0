"""ClickHouse errors classified by their error code: transient (retry), data errors
(a row's values; the sink dead-letters the row) and the rest (raise)."""

from __future__ import annotations

import struct

from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from inventory.core.errors import InventoryError

# Server error codes worth retrying: timeouts, overload, network and insert-status doubt.
TRANSIENT_CODES = frozenset({3, 159, 164, 202, 209, 210, 241, 242, 252, 285, 319, 425, 999, 1002})
# Server error codes caused by the values of the rows inserted, not by the schema, the
# server or the network (docs/semantics.md, "Failures"): CANNOT_PARSE_TEXT (6),
# CANNOT_PARSE_INPUT_ASSERTION_FAILED (27), CANNOT_PARSE_DATE (38), CANNOT_PARSE_DATETIME
# (41), TYPE_MISMATCH (53), ARGUMENT_OUT_OF_BOUND (69), CANNOT_CONVERT_TYPE (70),
# CANNOT_PARSE_NUMBER (72), INCORRECT_DATA (117), TOO_LARGE_STRING_SIZE (131),
# VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE (321), FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (395),
# DECIMAL_OVERFLOW (407), VIOLATED_CONSTRAINT (469), UNKNOWN_ELEMENT_OF_ENUM (691).
DATA_ERROR_CODES = frozenset({6, 27, 38, 41, 53, 69, 70, 72, 117, 131, 321, 395, 407, 469, 691})


class ColumnValueError(InventoryError, ValueError):
    """A value its column's (Arrow) type cannot hold, found before anything is sent."""


# The client's encoding of a value its column cannot hold (an integer beyond Int64, text
# with no UTF-8 form) fails before anything is sent.
_CLIENT_DATA_ERRORS = (UnicodeEncodeError, OverflowError, struct.error, ColumnValueError)


def error_code(exc: BaseException) -> int | None:
    """The ClickHouse error code of a driver exception (``None`` if it carries none)."""
    code = getattr(exc, "code", None) if isinstance(exc, ClickHouseError) else None
    return code if isinstance(code, int) else None


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure (network, timeouts, overload)."""
    if isinstance(exc, (OperationalError, ConnectionError, TimeoutError)):
        return True
    return error_code(exc) in TRANSIENT_CODES


def is_data_error(exc: BaseException) -> bool:
    """True when the values of the rows inserted were refused (see ``DATA_ERROR_CODES``):
    the same rows fail again on every attempt, other rows do not."""
    if isinstance(exc, _CLIENT_DATA_ERRORS):
        return True
    return error_code(exc) in DATA_ERROR_CODES


def error_summary(exc: BaseException, limit: int = 500) -> str:
    """The first line of an error's message, at most ``limit`` characters (no stack)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
