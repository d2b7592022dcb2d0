"""Backorders and preorders in the storefront, in headless Chromium (contract v10).

The availability API serves the storefront over a fixed stock view (as in
tests/unit/test_backorder_cart.py: a backorder SKU B with 1 unit and 5 on order, a
preorder SKU P with none before its release); the flow's own key books decide the holds.
The cards show "Only 1 left in stock" (with its restock line) and "Pre-order: ships Fri
11 Dec" with "Add to cart" on; the shopper's click on P holds a preorder and the cart
line says when it ships.
The whole pipeline's storefront run is tests/system/test_storefront_e2e.py; the flow's
decisions on backorders are held to the model by the property tests.
"""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.system.test_storefront_e2e import browser  # noqa: F401 (the fixture)
from tests.unit.test_backorder_cart import served  # noqa: F401 (the fixture)
from tests.unit.test_cart_and_stream import TOKEN, FakeSource, ListWriter


def test_the_storefront_offers_preorders_and_tells_when_they_ship(
    served: tuple[str, FakeSource, ListWriter],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    url, _, writer = served
    browser.get(f"{url}/?skus=B,P#token={TOKEN}")

    def card(sku: str, part: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, f'article[data-sku="{sku}"] {part}')

    def shows(sku: str, part: str, text: str) -> None:
        def seen(_: Any) -> bool:
            found = browser.find_elements(By.CSS_SELECTOR, f'article[data-sku="{sku}"] {part}')
            return bool(found) and text in found[0].text

        WebDriverWait(browser, 30, poll_frequency=0.1).until(seen)

    shows("B", ".badge", "Only 1 left in stock")
    # something is available: the restock line, no promise line
    assert card("B", ".restock").text == "More arriving Thu 10 Dec"
    shows("P", ".badge", "Out of stock")
    shows("P", ".restock", "Pre-order: ships Fri 11 Dec")
    assert card("P", "button.add").is_enabled()
    card("P", "button.add").click()
    shows("P", ".in-cart", "Pre-order: ships Fri 11 Dec.")
    [(key, event)] = writer.events
    assert key == b"W1:P" and event["event_type"] == "hold_request"
