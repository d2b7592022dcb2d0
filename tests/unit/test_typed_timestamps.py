"""The typed decoder's shortcuts (timestamps read by minute, codes remembered) decide
every text exactly as the general decoder's rules do."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dataflows.decode import ContractError, decode_general, parse_occurred_at
from dataflows.typed_decode import _is_code, _timestamp_ms, decode_typed
from inventory.core.contract import CODE_RE
from inventory.core.records import Source

digit_like = st.sampled_from("0123456789") | st.sampled_from(
    "5\u0660\u0661\u0665\u0669\uff19x :.-TZ"  # Arabic-Indic and fullwidth digits
)


def shaped(chars: list[str]) -> str:
    """``YYYY-MM-DDTHH:MM:SS.fffZ`` with any characters in the digits' places."""
    template = "####-##-##T##:##:##.###Z"
    out, it = [], iter(chars)
    for t in template:
        out.append(next(it) if t == "#" else t)
    return "".join(out)


def general_ms(text: str) -> int | None:
    try:
        return parse_occurred_at(text)
    except ContractError:
        return None


@settings(max_examples=600, deadline=None)
@given(st.lists(digit_like, min_size=17, max_size=17).map(shaped))
@example("2026-11-18T11:06:60.000Z")  # a 60th second
@example("2026-11-18T24:00:00.000Z")
@example("1999-12-31T23:59:59.999Z")  # before 2000: absurd
@example("2000-01-01T00:00:00.000Z")
@example("2099-12-31T23:59:59.999Z")
@example("2100-01-01T00:00:00.000Z")  # the first absurd one
@example("2026-02-29T10:00:00.000Z")  # no such day
@example("2026-11-18T11:06:0\u0665.000Z")  # a digit that is not 0-9
def test_timestamps_by_minute_equal_the_general_parse(text: str) -> None:
    assert _timestamp_ms(text) == general_ms(text)
    assert _timestamp_ms(text) == general_ms(text)  # again, from the minute remembered


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70) | st.from_regex(r"[A-Za-z0-9._-]{0,66}", fullmatch=True))
def test_remembered_codes_equal_the_pattern(text: str) -> None:
    expected = CODE_RE.fullmatch(text) is not None
    assert _is_code(text) is expected
    assert _is_code(text) is expected  # again, from the set


@settings(max_examples=300, deadline=None)
@given(
    st.lists(digit_like, min_size=17, max_size=17).map(shaped),
    st.sampled_from(["SKU-1", "SKU\\u002d1", "S\\u0131", "W"]),
)
def test_escaped_text_in_a_plain_event_decides_as_the_general_decoder(
    occurred_at: str, sku: str
) -> None:
    payload = (
        '{"event_id":"e","event_type":"sale","sku":"' + sku + '","warehouse_id":"W",'
        '"quantity":1,"occurred_at":' + json.dumps(occurred_at) + "}"
    ).encode()
    source = Source("inventory.events", 0, 7, 1_795_000_000_000)
    fast = decode_typed(payload, source, None, -1)
    if fast is not None:
        assert fast == decode_general(payload, source, None, -1)
