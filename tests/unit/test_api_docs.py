"""The API's documentation page works offline: Swagger UI's files are served by the API
itself (the swagger-ui-bundle package), never fetched from a CDN."""

from __future__ import annotations

import urllib.request

from inventory.availability.api import create_app
from inventory.availability.server import BackgroundServer
from inventory.availability.store import AvailabilityStore
from tests.support.fakes import FakeReader


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8", "replace")


def test_docs_are_served_from_the_package() -> None:
    server = BackgroundServer(
        create_app(AvailabilityStore(FakeReader([]), 60.0), few_left=5), "127.0.0.1", 0
    ).start()
    try:
        status, page = fetch(f"{server.url}/docs")
        assert status == 200 and "swagger-ui" in page
        assert "cdn" not in page.lower() and "https://" not in page  # nothing from outside
        assert '"/openapi.json"' in page or "'/openapi.json'" in page
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            assert f"/docs-assets/{asset}" in page
            status, body = fetch(f"{server.url}/docs-assets/{asset}")
            assert status == 200 and len(body) > 10_000
        assert fetch(f"{server.url}/openapi.json")[0] == 200
    finally:
        server.stop()
