"""Peer liveness (inventory.runtime.peers) over real UDP sockets on loopback."""

from __future__ import annotations

import threading
import time

from inventory.kafka.local_broker import free_port
from inventory.runtime.peers import PeerWatch


def pair(timeout: float) -> tuple[list[str], list[threading.Event], list[PeerWatch]]:
    addresses = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    lost = [threading.Event(), threading.Event()]
    messages: list[str] = []

    def on_lost(k: int) -> object:
        return lambda message: (messages.append(message), lost[k].set())

    watches = [
        PeerWatch(k, addresses, timeout, on_lost(k), interval=0.05)  # type: ignore[arg-type]
        for k in (0, 1)
    ]
    for watch in watches:
        watch.start()
    return messages, lost, watches


def test_a_peer_gone_silent_is_lost_and_named() -> None:
    messages, lost, watches = pair(timeout=0.5)
    time.sleep(0.3)  # heard each other
    watches[1].stop(goodbye=False)  # silent, as behind a cut link
    assert lost[0].wait(5)
    assert not lost[1].is_set()
    assert "process 0 heard nothing from process 1 at 127.0.0.1:" in messages[0]
    watches[0].stop(goodbye=False)


def test_a_peer_that_says_goodbye_is_not_lost() -> None:
    _, lost, watches = pair(timeout=0.5)
    time.sleep(0.3)
    watches[1].stop(goodbye=True)  # ended cleanly (exit at end)
    assert not lost[0].wait(1.5)
    watches[0].stop(goodbye=True)


def test_a_peer_never_heard_is_not_lost() -> None:
    """Processes start at different times; only silence after contact counts."""
    lost = threading.Event()
    addresses = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    watch = PeerWatch(0, addresses, 0.2, lambda _: lost.set(), interval=0.05)
    watch.start()
    assert not lost.wait(1.0)
    watch.stop(goodbye=False)
