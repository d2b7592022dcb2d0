"""Two "hosts" on one machine for cluster tests: Linux network namespaces with their own
addresses, created and removed by the test (needs root and ``ip``).

Layout (``tag`` keeps names unique)::

    root 10.<n>.1.1 --veth-- 10.<n>.1.2  host A  10.<n>.3.1 --veth-- 10.<n>.3.2  host B
    root 10.<n>.2.1 --veth------------------------------------------ 10.<n>.2.2  host B

The root namespace (where the broker listens on ``root_address``) is each host's default
gateway; A and B talk to each other over their own link (``a_address``/``b_address``),
which :meth:`TwoHosts.cut` takes down.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass


def namespaces_unavailable() -> str | None:
    """Why network namespaces cannot be used here (None if they can)."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"inv-probe-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"ip netns add is not permitted here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str, netns: str | None = None) -> None:
    command = ["ip", *(["-n", netns] if netns else []), *args]
    subprocess.run(command, check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class TwoHosts:
    a: str  # namespace names
    b: str
    net: int

    @property
    def root_address(self) -> str:
        return f"10.{self.net}.1.1"

    @property
    def a_address(self) -> str:
        return f"10.{self.net}.3.1"

    @property
    def b_address(self) -> str:
        return f"10.{self.net}.3.2"

    def command(self, host: str, args: list[str]) -> list[str]:
        """``args`` run on ``host`` (``self.a`` or ``self.b``)."""
        return ["ip", "netns", "exec", host, *args]

    def cut(self) -> None:
        """Take down the link between A and B (both ends)."""
        _ip("link", "set", f"{self.a}-b", "down", netns=self.a)
        _ip("link", "set", f"{self.b}-a", "down", netns=self.b)

    def mend(self) -> None:
        """Bring the link between A and B back up."""
        _ip("link", "set", f"{self.a}-b", "up", netns=self.a)
        _ip("link", "set", f"{self.b}-a", "up", netns=self.b)


@contextlib.contextmanager
def two_hosts(net: int = 201) -> Iterator[TwoHosts]:
    """Create the namespaces and links of the module doc; remove them afterwards."""
    tag = uuid.uuid4().hex[:4]
    hosts = TwoHosts(f"inv{tag}a", f"inv{tag}b", net)
    a, b = hosts.a, hosts.b
    try:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
            _ip("link", "set", "lo", "up", netns=ns)
        for ns, subnet in ((a, 1), (b, 2)):  # root <-> host
            _ip("link", "add", f"{ns}-r", "type", "veth", "peer", "name", f"{ns}-h")
            _ip("link", "set", f"{ns}-h", "netns", ns)
            _ip("addr", "add", f"10.{net}.{subnet}.1/24", "dev", f"{ns}-r")
            _ip("link", "set", f"{ns}-r", "up")
            _ip("addr", "add", f"10.{net}.{subnet}.2/24", "dev", f"{ns}-h", netns=ns)
            _ip("link", "set", f"{ns}-h", "up", netns=ns)
            _ip("route", "add", "default", "via", f"10.{net}.{subnet}.1", netns=ns)
        _ip("link", "add", f"{a}-b", "type", "veth", "peer", "name", f"{b}-a")
        _ip("link", "set", f"{a}-b", "netns", a)
        _ip("link", "set", f"{b}-a", "netns", b)
        _ip("addr", "add", f"{hosts.a_address}/24", "dev", f"{a}-b", netns=a)
        _ip("addr", "add", f"{hosts.b_address}/24", "dev", f"{b}-a", netns=b)
        _ip("link", "set", f"{a}-b", "up", netns=a)
        _ip("link", "set", f"{b}-a", "up", netns=b)
        yield hosts
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for ns in (a, b):  # the root ends go with their peers; this catches half-made links
            subprocess.run(["ip", "link", "del", f"{ns}-r"], capture_output=True)
