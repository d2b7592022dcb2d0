"""Starting and probing HTTP services in tests."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET ``url``: (status, decoded JSON body), for error statuses too."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def put_json(
    url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """PUT ``body`` as JSON: (status, decoded JSON body, response headers)."""
    return post_json(url, body, headers, method="PUT")


def wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 90.0) -> None:
    """Until ``url``/healthz answers 200; fails early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"the service exited ({proc.returncode}): {err}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise AssertionError("the availability API did not become healthy")


def post_json(
    url: str, body: Any, headers: dict[str, str] | None = None, *, method: str = "POST"
) -> tuple[int, Any, dict[str, str]]:
    """POST (or ``method``) ``body`` as JSON: (status, decoded JSON body, response headers)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def read_events(url: str, count: int, timeout: float = 10.0) -> list[tuple[str, Any]]:
    """The first ``count`` Server-Sent Events of ``url`` as (event, decoded data)."""
    events: list[tuple[str, Any]] = []
    with urllib.request.urlopen(url, timeout=timeout) as response:
        name = "message"
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
                if len(events) >= count:
                    break
    return events


def post_raw(url: str, data: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST ``data`` as it is (Content-Type JSON): (status, decoded JSON body)."""
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
