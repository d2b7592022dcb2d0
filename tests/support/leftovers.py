"""Brokers the test session leaves behind: every tansu process started while it ran must
be gone when it ends (a command that starts a broker it does not need, or a test that
forgets to stop one, shows here)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from inventory.kafka.local_broker import broker_binary


def broker_pids() -> set[int]:
    """Pids of the running processes of the local broker's binary."""
    binary = os.path.basename(broker_binary())
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue
        if os.path.basename(argv0.decode(errors="replace")) == binary:
            found.add(int(entry.name))
    return found


def stop(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):  # gone already
            os.kill(pid, signal.SIGKILL)
