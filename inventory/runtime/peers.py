"""Liveness of a multi-process cluster's peers.

Bytewax's processes exchange data over TCP without heartbeats: a peer that dies closes
its connections and the others fail at once, but a network partition (a cut link, a
host that vanishes) leaves them waiting forever. :func:`watching_peers` sends a UDP
heartbeat every second from this process's cluster address (the same ``host:port`` as
its TCP listener) to every other process and calls ``on_lost`` when one that was heard
stays silent for ``timeout`` seconds. A process that ends cleanly says goodbye first, so
its peers do not count it as lost.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence

logger = logging.getLogger(__name__)

HEARTBEAT = b"inventory-heartbeat"
GOODBYE = b"inventory-goodbye"


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


class PeerWatch:
    """Heartbeats to and from the other processes of ``addresses``; see the module doc.

    :arg process_id: this process's index in ``addresses``.
    :arg addresses: every process's ``host:port``, the cluster's list.
    :arg timeout: seconds of silence after which a peer is lost.
    :arg on_lost: called once, from the watch thread, with a message naming the peer.
    :arg clock: monotonic seconds (injected for tests).
    """

    def __init__(
        self,
        process_id: int,
        addresses: Sequence[str],
        timeout: float,
        on_lost: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 1.0,
    ) -> None:
        self._id = process_id
        self._peers = {k: _split(a) for k, a in enumerate(addresses) if k != process_id}
        self._timeout = timeout
        self._on_lost = on_lost
        self._clock = clock
        self._interval = interval
        self._heard: dict[int, float] = {}
        self._gone: set[int] = set()
        self._done = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(_split(addresses[process_id]))
        self._socket.settimeout(min(interval, 0.2))
        self._threads = [
            threading.Thread(target=self._send, name="peer-heartbeat", daemon=True),
            threading.Thread(target=self._receive, name="peer-watch", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, goodbye: bool) -> None:
        """Stop watching; ``goodbye``: tell the peers this process ended cleanly."""
        self._done.set()
        for thread in self._threads:
            thread.join(timeout=2)
        if goodbye:
            self._broadcast(GOODBYE + b" %d" % self._id)
        self._socket.close()

    def _broadcast(self, message: bytes) -> None:
        for address in self._peers.values():
            with contextlib.suppress(OSError):  # unreachable now: the watch decides
                self._socket.sendto(message, address)

    def _send(self) -> None:
        while not self._done.wait(self._interval):
            self._broadcast(HEARTBEAT + b" %d" % self._id)

    def _receive(self) -> None:
        while not self._done.is_set():
            try:
                data, _ = self._socket.recvfrom(64)
            except TimeoutError:
                data = b""
            except OSError:
                return
            kind, _, sender = data.partition(b" ")
            if sender.isdigit() and int(sender) in self._peers:
                if kind == HEARTBEAT:
                    self._heard[int(sender)] = self._clock()
                elif kind == GOODBYE:
                    self._gone.add(int(sender))
            lost = self._lost()
            if lost is not None:
                self._done.set()
                self._on_lost(lost)
                return

    def _lost(self) -> str | None:
        now = self._clock()
        for peer, heard in sorted(self._heard.items()):
            if peer not in self._gone and now - heard > self._timeout:
                host, port = self._peers[peer]
                return (
                    f"process {self._id} heard nothing from process {peer} at {host}:{port} "
                    f"for {self._timeout:g} s (network partition or a stalled host); the "
                    "cluster cannot make progress without it, so this process stops "
                    "(a restart resumes from the snapshots)"
                )
        return None


@contextlib.contextmanager
def watching_peers(
    process_id: int,
    addresses: Sequence[str],
    timeout: float,
    on_lost: Callable[[str], None],
) -> Iterator[PeerWatch]:
    """Watch the peers for the block (see :class:`PeerWatch`); a clean exit from the block
    says goodbye to them."""
    watch = PeerWatch(process_id, addresses, timeout, on_lost)
    watch.start()
    clean = False
    try:
        yield watch
        clean = True
    finally:
        watch.stop(goodbye=clean)


def exit_on_lost_peer(message: str) -> None:
    """What a process does when a peer is lost: the flow can neither finish an epoch nor
    stop cleanly, so say why and exit 1 (the last completed snapshot stays; a restart
    resumes from it)."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    os._exit(1)


def watch_peers_until_exit(process_id: int, addresses: Sequence[str], timeout: float) -> None:
    """Watch the peers for the rest of the process (the ``bytewax.run`` entry, where no
    block surrounds the run), exiting 1 when one is lost; says goodbye at a clean exit."""
    watch = PeerWatch(process_id, addresses, timeout, exit_on_lost_peer)
    watch.start()
    atexit.register(watch.stop, goodbye=True)
