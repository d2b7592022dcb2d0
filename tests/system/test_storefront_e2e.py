"""The storefront in headless Chromium, live through the whole pipeline.

The demo (``inventory demo --serve``: generated events, then live ones, the flow, the
availability API and the storefront in one process on its own embedded ClickHouse) runs
on a topic of the local broker; the test sells a product of its own down through that
topic and watches the product's badge in a real browser follow *available* (on hand less
cart holds): "In stock", "Only 2 left in stock" once a cart holds 18 of 20, still 2 after
the cart checks out through its reservation, "Out of stock" while another cart holds the
last 2, "Only 2 left" when it releases them, "Out of stock" once they are sold. The
badges follow the API's event stream (no reload); the shopper's own "Add to cart" (a
hold through the cart endpoint, the token in the page's fragment) turns "Only 2 left"
into "Only 1 left", and "Remove" back. Once
stock falls to the reorder point the flow orders more (catalog defaults: target 50, lead
time 72 h, which the demo's supplier delivers in 72 s): the card's restock line shows
"Back in stock by <date>" while it is out and "More arriving <date>" while it is low.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them when
run as root). Without them the test skips, unless ``E2E_REQUIRE_BROWSER=1`` (set by
``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from generators.events import Message
from generators.publish import publish_to_kafka
from inventory.core.times import format_ms
from tests.support.cli import base_env
from tests.support.http import free_port, wait_healthy

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("E2E_CHROMEDRIVER", "/usr/bin/chromedriver")
SKU, WAREHOUSE = "SKU-00000-E2E", "WH-E2E"  # sorts first in its status group of the grid
TOPIC = "e2e-events"
TOKEN = "e2e-cart-token"


def _browser_missing() -> str | None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    if not missing:
        return None
    reason = f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("E2E_REQUIRE_BROWSER") == "1":
        pytest.fail(f"E2E_REQUIRE_BROWSER=1 but {reason}")
    return reason


@pytest.fixture
def service(broker: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = base_env()
    env.update(
        INVENTORY_KAFKA_BROKERS=broker,
        INVENTORY_CLICKHOUSE_URL=f"chdb://{tmp_path / 'ch'}",
        INVENTORY_DATA_DIR=str(tmp_path / "data"),
        INVENTORY_EVENTS_TOPIC=TOPIC,
        INVENTORY_ALERTS_TOPIC=f"{TOPIC}-alerts",
        INVENTORY_DLQ_TOPIC=f"{TOPIC}-dlq",
        INVENTORY_API_PORT=str(port),
        INVENTORY_EPOCH_SECONDS="0.5",
        INVENTORY_AVAILABILITY_REFRESH_SECONDS="0.2",
        INVENTORY_API_WRITE_TOKEN=TOKEN,
    )
    log = tmp_path / "demo.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inventory.cli",
                "demo",
                "--events",
                "300",
                "--history-days",
                "0",
                "--serve",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(url, proc, timeout=180)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; demo's stderr: {log.read_text()}") from None
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def sell(broker: str, events: list[tuple[str, str, int]], cart: str | None = None) -> None:
    """Publish ``(event_id, kind, quantity)`` events; ``cart`` is their reservation_id (a
    reserve holds for 10 minutes)."""
    now = int(time.time() * 1000)
    messages = []
    for n, (event_id, kind, quantity) in enumerate(events):
        event: dict[str, object] = {
            "event_id": event_id,
            "event_type": kind,
            "sku": SKU,
            "warehouse_id": WAREHOUSE,
            "quantity": quantity,
            "occurred_at": format_ms(now + n),
        }
        if cart is not None:
            event["reservation_id"] = cart
        if kind == "reserve":
            event["expires_at"] = format_ms(now + n + 600_000)
        messages.append(Message(f"{WAREHOUSE}:{SKU}".encode(), orjson.dumps(event)))
    publish_to_kafka(messages, broker, TOPIC)


def test_badge_follows_stock_sold_down_through_the_pipeline(
    service: str, browser: Any, broker: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    badge_css = f'article[data-sku="{SKU}"] .badge'

    def badge_becomes(text: str) -> None:
        def seen(driver: Any) -> bool:
            badges = driver.find_elements(By.CSS_SELECTOR, badge_css)
            return bool(badges) and badges[0].text == text

        try:
            WebDriverWait(browser, 60, poll_frequency=0.2).until(seen)
        except Exception:
            browser.save_screenshot(str(tmp_path / "storefront.png"))
            shown = browser.find_elements(By.CSS_SELECTOR, badge_css)
            raise AssertionError(
                f"badge never showed {text!r}; it shows "
                f"{shown[0].text if shown else None!r} (screenshot in {tmp_path})"
            ) from None

    restock_css = f'article[data-sku="{SKU}"] .restock'

    def restock_line() -> str:
        lines = browser.find_elements(By.CSS_SELECTOR, restock_css)
        return str(lines[0].text) if lines else ""

    def restock_day(sold_at: float) -> str:
        day = datetime.fromtimestamp(sold_at + 72 * 3600, UTC)
        return f"{day:%a} {day.day} {day:%b}"

    browser.get(f"{service}/?skus={SKU}#token={TOKEN}")  # pushed changes: never reloaded
    badge_becomes("Unavailable")  # not in stock or catalog yet
    sell(broker, [("e2e-1", "restock", 20)])
    badge_becomes("In stock")
    sell(broker, [("e2e-2", "reserve", 18)], cart="cart-1")  # on hand 20, available 2
    badge_becomes("Only 2 left in stock")
    status = browser.find_element(By.CSS_SELECTOR, badge_css).get_attribute("data-status")
    assert status == "low"
    assert restock_line() == ""  # nothing on order yet
    # the shopper's own click: a hold through the API's cart endpoint, then given back
    card = f'article[data-sku="{SKU}"]'
    browser.find_element(By.CSS_SELECTOR, f"{card} button.add").click()
    badge_becomes("Only 1 left in stock")
    assert "In your cart" in browser.find_element(By.CSS_SELECTOR, f"{card} .in-cart").text
    browser.find_element(By.CSS_SELECTOR, f"{card} button.remove").click()
    badge_becomes("Only 2 left in stock")
    sold_at = time.time()
    sell(broker, [("e2e-3", "sale", 18)], cart="cart-1")  # bought through the hold: 2 left
    sell(broker, [("e2e-4", "reserve", 2)], cart="cart-2")  # the last two held
    badge_becomes("Out of stock")
    WebDriverWait(browser, 30, poll_frequency=0.2).until(lambda _: restock_line())
    assert restock_line() == f"Back in stock by {restock_day(sold_at)}"
    sell(broker, [("e2e-5", "release", 2)], cart="cart-2")
    badge_becomes("Only 2 left in stock")
    assert restock_line() == f"More arriving {restock_day(sold_at)}"
    sell(broker, [("e2e-6", "sale", 2), ("e2e-3", "sale", 18)])  # e2e-3 again: a duplicate
    badge_becomes("Out of stock")
    browser.save_screenshot(str(tmp_path / "storefront.png"))
    browser.get(f"{service}/")  # the default grid: a showcase of every status
    badge_becomes("Out of stock")
    # as first shown: live events and deliveries may change a card right after
    statuses = [
        badge.get_attribute("data-first-status")
        for badge in browser.find_elements(By.CSS_SELECTOR, "article .badge")
    ]
    order = ["low", "out_of_stock", "in_stock"]
    assert 1 < len(statuses) <= 24 and "out_of_stock" in statuses, statuses
    assert statuses == sorted(statuses, key=order.index), statuses  # scarce ones first
    # ?skus= cards carry the catalog's names and prices, as the grid's do
    grid = {
        card.get_attribute("data-sku"): (
            card.find_element(By.TAG_NAME, "h2").text,
            card.find_element(By.CSS_SELECTOR, ".price").text,
        )
        for card in browser.find_elements(By.CSS_SELECTOR, "article")
    }
    named = [sku for sku, (title, price) in grid.items() if title != sku and price]
    assert named, grid
    browser.get(f"{service}/?skus={named[0]},{SKU}")
    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "article h2")) == 2
    )
    cards = browser.find_elements(By.CSS_SELECTOR, "article")
    assert [c.get_attribute("data-sku") for c in cards] == [named[0], SKU]
    assert (
        cards[0].find_element(By.TAG_NAME, "h2").text,
        cards[0].find_element(By.CSS_SELECTOR, ".price").text,
    ) == grid[named[0]]
