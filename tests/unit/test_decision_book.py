"""The availability API's decision book: each request's decision for the waiter, the
latest per reservation, and ended reservations forgotten after the window."""

from __future__ import annotations

import asyncio

from inventory.availability.decisions import DecisionBook
from inventory.core.times import format_ms

T0 = 1_796_000_000_000


def decision(rid: str, event_id: str, kind: str, at_ms: int, version: int) -> dict[str, object]:
    return {
        "reservation_id": rid,
        "event_id": event_id,
        "request": "hold_request" if kind in ("granted", "refused") else "hold_checkout",
        "decision": kind,
        "decided_at": format_ms(at_ms),
        "version": str(version),
    }


def test_a_waiter_gets_its_own_decision_and_ended_holds_are_forgotten() -> None:
    book = DecisionBook(keep_ms=60_000)

    async def scenario() -> None:
        waiting = asyncio.ensure_future(book.wait("e1", 5.0))
        await asyncio.sleep(0.01)
        book.take(decision("a", "e1", "granted", T0, 1))
        assert (await waiting)["decision"] == "granted"
        assert await book.wait("nothing", 0.01) is None  # the wait runs out: pending

    asyncio.run(scenario())
    book.take(decision("a", "e2", "checked_out", T0 + 1_000, 2))
    book.take(decision("b", "e3", "granted", T0 + 2_000, 1))  # stays: still held
    book.take(decision("c", "e4", "refused", T0 + 3_000, 1))
    assert book.hold("a")["decision"] == "checked_out"  # type: ignore[index]
    assert book.hold("c")["decision"] == "refused"  # type: ignore[index]
    book.take(decision("d", "e5", "released", T0 + 70_000, 1))
    assert book.hold("a") is None and book.hold("c") is None  # ended over a minute before
    assert book.hold("b") is not None and book.hold("d") is not None
    assert len(book) == 2
    assert book.decided("e1") is not None  # requests' own decisions stay (the last 100,000)
