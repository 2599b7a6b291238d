"""The alert builder in a real headless Chromium (Debian's), driven by Playwright.

Pick a source, a dialect and an action; copy the webhook URL and the message and find them in
the clipboard; post the message, filled in, to the copied URL and see it filled on paper; send
a test and find it in the dashboard's signal list, stored and not executed. The screenshot goes
to docs/builder.png when that file is missing or TRADEHOOK_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server
from tests.e2e.test_dashboard_browser import browser, log_in  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e
SCREENSHOT = Path(__file__).parents[2] / "docs" / "builder.png"
CONFIG = """
[sources.tradingview]

[sources.pine]
dialect = "pineconnector"
"""
PASSPHRASE = "pine-pass-8c2e41"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("builder"), config_toml=CONFIG,
                           env={"TRADEHOOK_SOURCES__PINE__PASSPHRASE": PASSPHRASE})
    yield running
    running.stop()


@pytest.fixture
def page(browser: Any, server: RunningServer) -> Iterator[Any]:  # noqa: F811 - the fixture
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.goto(server.url + "/")
    log_in(opened, server.admin_token)
    opened.wait_for_selector("#live.ok")
    yield opened
    context.close()
    assert errors == []  # no script errors, no CSP violations


def clipboard(page: Any) -> str:
    text: str = page.evaluate("navigator.clipboard.readText()")
    return text


def choose_a_tradingview_buy_limit_of_half(page: Any) -> None:
    """Open the builder from the dashboard and pick: source and dialect TradingView, a buy
    limit, quantity 0.5; wait until the message says so."""
    page.click("nav >> text=Alert builder")
    page.wait_for_selector("#message:not(:empty)")
    page.select_option("#source", "tradingview")
    page.select_option("#dialect", "tradingview")
    page.select_option("#action", "buy_limit")
    page.fill("#quantity", "0.5")
    page.wait_for_selector('#message:has-text(\'"contracts": "0.5"\')')


def test_pick_copy_and_post_the_message_to_the_url(page: Any, server: RunningServer) -> None:
    choose_a_tradingview_buy_limit_of_half(page)
    assert "{{ticker}}" in page.inner_text("#message")
    assert page.inner_text("#order-text") == "buy 0.5 BTCUSDT (limit)"

    page.click("#copy-url")
    page.wait_for_selector("#copy-state:has-text('URL copied')")
    url = clipboard(page)
    printed = server.run_cli("url", "tradingview", "--base", server.url).stdout.decode().strip()
    assert url == printed == page.inner_text("#url")
    page.click("#copy-message")
    page.wait_for_selector("#copy-state:has-text('Message copied')")
    assert clipboard(page) == page.inner_text("#message")

    # The message as TradingView would send it (the page's own sample), to the copied URL.
    sample = page.inner_text("#sample-message")
    answer = httpx.post(url, content=sample.encode(), headers={"content-type": "application/json"},
                        timeout=10)
    assert answer.status_code == 202, answer.text
    stored = server.wait_for_signal(answer.json()["signal_id"], ["placed"])
    assert stored["order"]["price"] == 67250.5 and stored["order"]["quantity"] == 0.5


def test_a_late_answer_for_earlier_choices_does_not_replace_the_template(page: Any) -> None:
    # The template for "buy_limit, quantity 1" is held back until the one for quantity 0.5 is
    # shown; when it then arrives, the page must keep showing what the choices now say.
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        query = route.request.url.split("?", 1)[1]
        if "action=buy_limit" in query and "quantity=1&" in query + "&" and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/builder/template?*", hold_the_first)
    choose_a_tradingview_buy_limit_of_half(page)
    assert len(held) == 1
    with page.expect_response(lambda answer: "quantity=1" in answer.url):
        held[0].continue_()
    page.evaluate("new Promise((done) => setTimeout(done, 100))")  # let the page handle it
    assert '"contracts": "0.5"' in page.inner_text("#message")
    assert page.inner_text("#order-text") == "buy 0.5 BTCUSDT (limit)"


def test_send_a_test_and_see_it_in_the_signal_list(page: Any, server: RunningServer) -> None:
    page.goto(server.url + "/builder")
    page.wait_for_selector("#message:not(:empty)")
    page.select_option("#source", "pine")
    page.wait_for_selector("#passphrase-note:not([hidden])")
    page.select_option("#action", "buy")
    page.wait_for_selector("#message:has-text(',buy,{{ticker}},risk=1')")
    assert PASSPHRASE not in page.content()
    page.fill("#test-ticker", "EURUSD")
    page.fill("#test-close", "1.0842")
    page.click("#send-test")
    page.wait_for_selector("#test-result:not([hidden])")
    assert page.inner_text("#test-status").startswith("passed every check of the source")
    signal_id = page.inner_text("#test-signal")
    page.wait_for_selector(f'#recent tr[data-id="{signal_id}"] td.status.rejected')
    _screenshot(page)

    stored = server.signal(signal_id)
    assert stored["source"] == "pine" and stored["attempts"] == []
    assert stored["order"]["symbol"] == "EURUSD" and PASSPHRASE not in stored["raw_body"]
    page.click("#test-signal")
    page.wait_for_selector(f'#signals tr[data-id="{signal_id}"] td.status.rejected')
    page.wait_for_selector("#story:not([hidden])")
    assert page.inner_text("#story-id") == signal_id


def _screenshot(page: Any) -> None:
    update = os.environ.get("TRADEHOOK_UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists()
    if update:
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    else:
        page.screenshot(full_page=True)
