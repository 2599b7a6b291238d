"""The dashboard in a real headless Chromium (Debian's), driven by Playwright.

Log in, watch a signal posted meanwhile appear without reloading, open its story, engage the
kill switch and see the next signal refused; a wrong token and a missing CSRF token are
refused. The screenshot it takes goes to docs/dashboard.png when that file is missing or
TRADEHOOK_UPDATE_SCREENSHOTS=1, else into the test's folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import skip_unless_available
from tests.e2e.server import RunningServer, start_server

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
SCREENSHOT = Path(__file__).parents[2] / "docs" / "dashboard.png"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    skip_unless_available(CHROMIUM.exists(), "chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_unless_available(False, "playwright is not installed (pip install playwright)")
        return
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("dashboard"))
    yield running
    running.stop()


@contextmanager
def watched_page(browser: Any, url: str, *, height: int = 860) -> Iterator[tuple[Any, list[str]]]:
    """A page opened at `url` in a fresh context, and the script errors and CSP violations it
    reports meanwhile (Chromium logs both as console errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": height})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.goto(url)
    try:
        yield opened, errors
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, server: RunningServer) -> Iterator[Any]:
    with watched_page(browser, server.url + "/") as (opened, errors):
        yield opened
    expected = ("status of 401", "status of 403")  # the refusals these tests ask for
    # No script errors, no CSP violations.
    assert [e for e in errors if not any(x in e for x in expected)] == []


def log_in(page: Any, token: str) -> None:
    page.fill("#token", token)
    page.click("button[type=submit]")


def post_native(server: RunningServer, **order: Any) -> str:
    answer = server.post_signed(json.dumps(order), content_type="application/json")
    signal_id: str = answer.json()["signal_id"]
    return signal_id


def test_wrong_token_and_missing_csrf_are_refused(page: Any, server: RunningServer) -> None:
    log_in(page, "not-the-token")
    page.wait_for_selector("text=Wrong admin token.")
    assert page.locator("meta[name=csrf-token]").count() == 0
    forged = page.context.request.post(f"{server.url}/login",
                                       form={"token": server.admin_token})
    assert forged.status == 403  # the form's CSRF token is missing
    page.goto(server.url + "/")  # that answer set a new login cookie: take the new form
    log_in(page, server.admin_token)
    page.wait_for_selector("#live.ok")
    without_csrf = page.context.request.post(
        f"{server.url}/api/kill-switch", data=json.dumps({"engaged": True}),
        headers={"content-type": "application/json"},
    )
    assert without_csrf.status == 403
    assert server.admin_get("/api/kill-switch").json()["engaged"] is False


def test_live_signals_story_and_kill_switch(page: Any, server: RunningServer) -> None:
    log_in(page, server.admin_token)
    page.wait_for_selector("#live.ok")
    page.wait_for_selector("#plugins td.ok")
    assert page.locator("#kill-switch-state").inner_text().startswith("off")

    # Posted while the page is open: it must appear without a reload.
    signal_id = post_native(server, symbol="BTC/USDT", side="buy", quantity=0.25,
                            stop_loss=60000, take_profit=72000, confidence=0.82)
    page.wait_for_selector(f'tr[data-id="{signal_id}"] td.status.filled')
    tv_url = server.run_cli("url", "tradingview", "--base", server.url).stdout.decode().strip()
    httpx.post(tv_url, content=(FIXTURES / "tradingview_strategy_entry.json").read_bytes(),
               headers={"content-type": "application/json"})
    server.post_signed("sell 2 ETHUSDT confidence 0.4")
    server.post_signed("buy lots of BTC")
    page.wait_for_selector('#signals td.status.invalid')
    page.wait_for_selector('#signals td.status.filtered')
    assert page.locator("#signals tbody tr").count() >= 4

    page.click(f'tr[data-id="{signal_id}"]')
    page.wait_for_selector("#story:not([hidden])")
    assert page.locator("#story-id").inner_text() == signal_id
    assert '"stop_loss": 60000' in page.locator("#story-raw").inner_text()
    assert '"symbol": "BTC/USDT"' in page.locator("#story-order").inner_text()
    assert page.locator("#story-attempts tbody tr td").nth(3).inner_text() == "result"
    assert "MOCK-" in page.locator("#story-result").inner_text()
    _screenshot(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#kill-switch-toggle")
    page.wait_for_selector("#kill-switch-state.bad")
    assert page.locator("#kill-switch-state").inner_text().startswith("ENGAGED")
    assert server.admin_get("/api/kill-switch").json()["engaged"] is True
    refused = post_native(server, symbol="SOL/USDT", side="buy", quantity=3)
    page.wait_for_selector(f'tr[data-id="{refused}"] td.status.rejected')
    assert server.signal(refused)["attempts"] == []

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#kill-switch-toggle")
    page.wait_for_selector("#kill-switch-state.ok")


def _screenshot(page: Any) -> None:
    update = os.environ.get("TRADEHOOK_UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists()
    if update:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    else:
        page.screenshot(full_page=True)
