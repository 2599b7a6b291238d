"""The "Positions & P&L" page in a real headless Chromium (Debian's), driven by Playwright.

After paper fills through the real server: the positions and balances of the paper plugin, the
FIFO P&L in the stats table, and the three charts really drawn (coloured pixels on their
canvases, not just an empty frame), with no script error and no CSP violation. The screenshot
goes to docs/trading.png when that file is missing or TRADEHOOK_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import RunningServer, start_server
from tests.e2e.test_dashboard_browser import browser, log_in, watched_page

__all__ = ["browser"]  # the Chromium fixture, shared with the main page's test
pytestmark = pytest.mark.e2e
SCREENSHOT = Path(__file__).parents[2] / "docs" / "trading.png"
CONFIG = """
[plugins.paper]
type = "mock"
delay_ms = 5
fee_rate = 0.001
ticks = { ETHUSDT = 0.01, BTCUSDT = 0.5 }
"""
TRADES = ("buy 0.5 ETHUSDT price 2000", "buy 0.5 ETHUSDT price 2040", "sell 0.6 ETHUSDT price 2100",
          "buy 0.01 BTCUSDT price 67000", "sell 0.4 ETHUSDT price 2080",
          "buy 0.3 ETHUSDT price 2060")
# Pixels of each chart's own colour: the price line and bars blue, the P&L area green.
DRAWN = """(id) => {
  let count = 0;
  for (const canvas of document.querySelectorAll(`#${id} canvas`)) {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && (b - r > 80 || g - r > 60)) { count += 1; }
    }
  }
  return count;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("trading"), config_toml=CONFIG)
    for body in TRADES:
        signal_id = running.post_signed(body).json()["signal_id"]
        assert running.wait_for_signal(signal_id)["status"] == "filled"
        time.sleep(0.4)  # fills a little apart, as the price chart spreads them over time
    yield running
    running.stop()


@pytest.fixture
def page(browser: Any, server: RunningServer) -> Iterator[Any]:
    with watched_page(browser, server.url + "/", height=1100) as (opened, errors):
        log_in(opened, server.admin_token)
        opened.wait_for_selector("#live.ok")
        yield opened
    assert errors == []  # no script errors, no CSP violations


def test_positions_pnl_and_charts_after_paper_fills(page: Any, server: RunningServer) -> None:
    page.click("nav.pages a[href='/trading']")
    page.wait_for_selector("#live.ok")
    eth = page.locator('#positions tr[data-symbol="ETHUSDT"] td.position')
    eth.wait_for()
    assert float(eth.inner_text()) == pytest.approx(0.3)  # 0.5 + 0.5 - 0.6 - 0.4 + 0.3
    assert "100,000.00 USD" in page.locator('#balances tr[data-plugin="paper"]').inner_text()

    stats = server.admin_get("/api/stats", since="24h").json()["plugins"]["paper"]
    # FIFO: 0.5@2000 and 0.1@2040 sold at 2100, then 0.4@2040 sold at 2080, before slippage.
    assert stats["realised_pnl"] == pytest.approx(0.5 * 100 + 0.1 * 60 + 0.4 * 40, rel=0.02)
    row = page.locator('#stats tr[data-group="plugin:paper"] td')
    assert row.nth(3).inner_text() == "6"  # fills
    assert row.nth(5).inner_text() == f"{stats['realised_pnl']:,.2f}"
    assert "gain" in (row.nth(7).get_attribute("class") or "")

    assert page.locator("#chart-symbol").input_value() == "paper · ETHUSDT"
    for chart in ("price-chart", "pnl-chart", "latency-chart"):
        page.wait_for_function(f"() => ({DRAWN})('{chart}') > 50", timeout=10_000)
    _screenshot(page)

    page.select_option("#chart-symbol", "paper · BTCUSDT")
    page.wait_for_function(f"() => ({DRAWN})('price-chart') > 0")


def test_a_late_answer_for_the_previous_period_is_not_shown(page: Any,
                                                             server: RunningServer) -> None:
    # The page's first stats request (last 24 hours) is held; the period is changed to the whole
    # journal, whose answer is shown; the held one then answers (with a count no period has) and
    # must not replace it.
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        if "since=24h" in route.request.url and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/stats?*", hold_the_first)
    page.route("**/api/stats", hold_the_first)
    page.click("nav.pages a[href='/trading']")
    page.wait_for_selector("#live.ok")
    page.select_option("#period", "")
    page.wait_for_selector("#period-note:has-text('6 signals')")
    assert len(held) == 1
    stale = server.admin_get("/api/stats", since="24h").json() | {"signals": 987}
    with page.expect_response(lambda answer: "since=24h" in answer.url):
        held[0].fulfill(json=stale)
    page.evaluate("new Promise((done) => setTimeout(done, 100))")  # let the page handle it
    assert page.inner_text("#period-note") == "6 signals"


def test_the_page_without_a_session_goes_to_the_login(browser: Any, server: RunningServer) -> None:
    with watched_page(browser, server.url + "/trading") as (opened, errors):
        opened.wait_for_selector("#token")
    assert errors == []


def _screenshot(page: Any) -> None:
    update = os.environ.get("TRADEHOOK_UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists()
    page.screenshot(path=str(SCREENSHOT) if update else None, full_page=True)
