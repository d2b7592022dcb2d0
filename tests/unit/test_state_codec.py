"""Key state blobs: format 6 (MessagePack) and format 5 (pickle) hold the same state,
every format decodes to what was encoded, and a key resumed from either continues as
the live one; a state MessagePack cannot hold falls back to format 5."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dataflows.per_key.book import KeyBook
from dataflows.per_key.state_codec import decode_state, encode_state
from inventory.core.records import Event, ProductPolicy
from tests.support.builders import ev

POLICY = ProductPolicy(threshold=5, target_stock=20, lead_time_ms=60_000)

kinds = st.sampled_from(["sale", "return", "restock", "adjustment", "count", "reserve", "release"])


@st.composite
def histories(draw: st.DrawFn) -> list[list[Event]]:
    batches = []
    for b in range(draw(st.integers(1, 4))):
        batch = []
        for i in range(draw(st.integers(1, 6))):
            kind = draw(kinds)
            at = draw(st.integers(0, 400))
            sizes = [-3, 2] if kind == "adjustment" else [1, 4, 9, 5000]
            qty = draw(st.sampled_from(sizes))
            hold = f"h{draw(st.integers(0, 2))}" if kind in ("reserve", "release") else None
            batch.append(
                ev(
                    f"e{b}-{i}-{draw(st.integers(0, 3))}",
                    kind,
                    qty,
                    at,
                    price=draw(st.sampled_from([2.5, 1e12])),  # 1e12: revenue beyond 64 bits
                    order=draw(st.sampled_from([None, "o1", "o2"])),
                    reservation=hold,
                    expires_s=at + 30 if kind == "reserve" else None,
                )
            )
        batches.append(batch)
    return batches


def book(state: object = None) -> KeyBook:
    return KeyBook(lateness_ms=120_000, window_ms=60_000, policy_for=lambda _: POLICY, state=state)


@settings(max_examples=150, deadline=None)
@given(histories(), histories())
def test_both_formats_hold_the_state_and_resume_identically(
    before: list[list[Event]], after: list[list[Event]]
) -> None:
    live = book()
    for batch in before:
        live.apply_batch(batch)
    state = live.snapshot()
    packed, pickled = encode_state(state), encode_state(state, pickled=True)
    assert pickled[0] == 0x80  # format 5, a pickle
    assert decode_state(packed) == state == decode_state(pickled)
    resumed = [book(decode_state(packed)), book(decode_state(pickled))]
    for batch in after:
        expected = live.apply_batch(batch)
        assert [k.apply_batch(batch) for k in resumed] == [expected, expected]


def test_a_plain_key_is_packed_and_a_huge_revenue_is_pickled() -> None:
    plain = book()
    plain.apply_batch([ev("c", "count", 8, 0), ev("s", "sale", 3, 1)])
    assert plain.encode()[0] != 0x80  # format 6
    huge = book()
    huge.apply_batch([ev("c", "count", 8, 0), ev("s", "sale", 5000, 1, price=1e12)])
    blob = huge.encode()
    assert blob[0] == 0x80  # revenue 5e19 in 1/10,000 units: beyond 64 bits
    assert decode_state(blob) == huge.snapshot()
