"""Hostile input: arbitrary bytes and JSON never crash the decoder or the flow; every
message is either accepted per the contract or dead-lettered with a reason."""

from __future__ import annotations

import json
from typing import Any

from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.testing import TestingSink, TestingSource, run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataflows.decode import decode_general, decode_one
from dataflows.flow import build_flow
from dataflows.typed_decode import decode_typed
from generators.events import EventGenerator, GeneratorConfig
from inventory.core.contract import InventoryEvent
from inventory.core.records import DeadLetter, Event, Source
from inventory.core.settings import Settings
from tests.support.messages import FakeMsg, events

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
hostile = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),  # NaN/Infinity included
    events().map(lambda e: json.dumps(e).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"null",
            b"{}" * 10,
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 2000,
            b'{"quantity": 1e999}',
            b"\xef\xbb\xbf{}",
            b'{"event_id": "\\ud800"}',
            json.dumps(
                {
                    "event_id": "x",
                    "event_type": "sale",
                    "sku": "S",
                    "warehouse_id": "W",
                    "quantity": 1,
                    "occurred_at": "9999-12-31T23:59:59.999999999+14:00",
                }
            ).encode(),
            b"{" + b'"k": 1,' * 20000 + b'"z": 0}',  # larger than the 64 KiB limit
        ]
    ),
)


@settings(max_examples=1500, deadline=None)
@given(hostile)
def test_decoder_accepts_per_contract_or_dead_letters_with_reason(raw: bytes) -> None:
    out = decode_one(FakeMsg(raw), max_future_ms=300_000)
    if isinstance(out, Event):
        model = InventoryEvent.model_validate_json(raw)  # accepted means valid per contract
        assert model.event_id == out.event_id
    else:
        assert isinstance(out, DeadLetter)
        assert out.error and out.payload == raw


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile, min_size=1, max_size=40), st.integers(min_value=1, max_value=9))
def test_flow_never_crashes_and_accounts_for_every_message(
    raws: list[bytes], batch_size: int
) -> None:
    msgs = [
        KafkaSourceMessage(
            key=None if i % 3 else b"\xff",
            value=raw,
            topic="events",
            partition=0,
            offset=i,
            timestamp=(1, 1_795_000_000_000),
        )
        for i, raw in enumerate(raws)
    ]
    rows: list[Any] = []
    dead: list[DeadLetter] = []
    flow = build_flow(
        Settings(_env_file=None),
        "unused:9092",  # type: ignore[call-arg]
        source=TestingSource(msgs, batch_size=batch_size),
        rows_sink=TestingSink(rows),
        dlq_sink=TestingSink(dead),
        alerts_sink=TestingSink([]),
        stock_sink=TestingSink([]),
        decisions_sink=TestingSink([]),
    )
    run_main(flow)
    accepted = {r.source.offset for r in rows if isinstance(r, Event)}
    rejected = {d.source.offset for d in dead}
    assert not accepted & rejected
    duplicates = len(msgs) - len(accepted) - len(rejected)
    assert duplicates >= 0
    assert accepted | rejected <= set(range(len(msgs)))
    # a message neither accepted nor rejected must repeat an accepted event_id
    for i in set(range(len(msgs))) - accepted - rejected:
        event_id = json.loads(raws[i])["event_id"]
        assert event_id in {r.event_id for r in rows if isinstance(r, Event)}


@settings(max_examples=1500, deadline=None)
@given(st.one_of(hostile, events().map(lambda e: json.dumps(e).encode())))
def test_typed_fast_path_decides_only_as_the_general_decoder_does(raw: bytes) -> None:
    """decode_typed either leaves a payload to the general decoder or returns exactly
    the event the general decoder returns."""
    source = Source("inventory.events", 0, 7, 1_795_000_000_000)
    fast = decode_typed(raw, source, b"k", 300_000)
    if fast is not None:
        assert fast == decode_general(raw, source, b"k", 300_000)


def test_typed_fast_path_takes_the_generators_events() -> None:
    """The common case does take the fast path (else it measures nothing)."""
    source = Source("inventory.events", 0, 7, 1_795_000_000_000)
    messages = list(EventGenerator(GeneratorConfig(seed=5, rate=1000.0)).messages(500))
    taken = [decode_typed(m.value, source, m.key, 10**15) for m in messages if m.value]
    assert all(isinstance(event, Event) for event in taken)
