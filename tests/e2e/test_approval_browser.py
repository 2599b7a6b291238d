"""The approval queue in the dashboard, in a real headless Chromium driven by Playwright, against
a real `tradehook serve`: approve (a double click and two approvals at once give one order),
decline, approve after the kill switch was engaged (refused), expire while the page watches,
and a restart while a signal waits. What was executed is read from the paper plugin's own
positions (`GET /api/positions`), not from the statuses tradehook reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server, wait_until
from tests.e2e.test_dashboard_browser import browser, log_in, watched_page

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the fixture, shared with the dashboard's own test
CONFIG = """
[plugins.paper]
type = "mock"
delay_ms = 0

[sources.signed]
approval = "below"
review_threshold = 0.8

[sources.tv]
approval = "always"
approval_timeout = 2
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "approvals"


@pytest.fixture
def server(workdir: Path) -> Iterator[RunningServer]:
    running = start_server(workdir, config_toml=CONFIG)
    yield running
    running.stop()


@pytest.fixture
def page(browser: Any, server: RunningServer) -> Iterator[Any]:
    with watched_page(browser, server.url + "/") as (opened, errors):
        log_in(opened, server.admin_token)
        opened.wait_for_selector("#live.ok")
        yield opened
    assert [e for e in errors if "status of 409" not in e] == []  # no script or CSP errors


def waiting_signal(server: RunningServer, symbol: str) -> str:
    body = json.dumps({"symbol": symbol, "side": "buy", "quantity": 1, "confidence": 0.7})
    answer = server.post_signed(body, content_type="application/json")
    assert answer.status_code == 202 and answer.json()["status"] == "awaiting_approval", answer.text
    signal_id: str = answer.json()["signal_id"]
    return signal_id


def executed(server: RunningServer) -> dict[str, float]:
    """The paper plugin's own positions, by symbol."""
    plugins = server.admin_get("/api/positions").json()["plugins"]
    positions: dict[str, float] = plugins["paper"]["positions"]
    return {symbol: size for symbol, size in positions.items() if size}


def positions_become(server: RunningServer, expected: dict[str, float]) -> None:
    """Wait (the positions answer is cached a few seconds) until the broker shows `expected`;
    a second order would keep a position at 2 and never match."""
    seen: list[dict[str, float]] = []
    try:
        wait_until(lambda: seen.append(executed(server)) or seen[-1] == expected, timeout=20)
    except AssertionError:
        raise AssertionError(f"positions {seen[-1]}, expected {expected}") from None


def row(page: Any, signal_id: str) -> str:
    return f'#approvals tr[data-id="{signal_id}"]'


def test_approve_decline_and_approve_after_the_kill_switch(
    page: Any, server: RunningServer
) -> None:
    page.wait_for_selector("#approvals-empty:not([hidden])")
    approved = waiting_signal(server, "ETHUSDT")  # appears without a reload
    page.wait_for_selector(f"{row(page, approved)} button.approve")
    assert "below sources.signed.review_threshold 0.8" in page.locator(
        f"{row(page, approved)} td.detail").inner_text()
    page.locator(f"{row(page, approved)} button.approve").dblclick()  # a double click
    page.wait_for_selector(f'#signals tr[data-id="{approved}"] td.status.filled')
    page.wait_for_selector(row(page, approved), state="detached")

    raced = waiting_signal(server, "LINKUSDT")  # two approvals at once from the page's session
    page.wait_for_selector(row(page, raced))
    statuses = page.evaluate("""async (id) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const post = () => fetch(`/api/signals/${id}/approve`, {method: "POST", body: "{}",
            headers: {"content-type": "application/json", "x-csrf-token": csrf}});
        return (await Promise.all([post(), post()])).map((answer) => answer.status).sort();
    }""", raced)
    assert statuses == [200, 409]
    page.wait_for_selector(f'#signals tr[data-id="{raced}"] td.status.filled')

    declined = waiting_signal(server, "SOLUSDT")
    page.click(f"{row(page, declined)} button.decline")
    page.wait_for_selector(f'#signals tr[data-id="{declined}"] td.status.declined')
    page.wait_for_selector(row(page, declined), state="detached")

    refused = waiting_signal(server, "ADAUSDT")
    page.wait_for_selector(f"{row(page, refused)} button.approve")
    engage = httpx.post(f"{server.url}/api/kill-switch", json={"engaged": True}, timeout=10,
                        headers={"authorization": f"Bearer {server.admin_token}"})
    assert engage.status_code == 200
    page.wait_for_selector("#kill-switch-state.bad")
    page.click(f"{row(page, refused)} button.approve")
    page.wait_for_selector("#approvals-error:has-text('kill_switch')")
    page.wait_for_selector(f'#signals tr[data-id="{refused}"] td.status.rejected')
    assert server.signal(refused)["attempts"] == []
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#kill-switch-toggle")
    page.wait_for_selector("#kill-switch-state.ok")

    positions_become(server, {"ETHUSDT": 1.0, "LINKUSDT": 1.0})


def test_a_waiting_signal_expires_while_the_page_watches(page: Any, server: RunningServer) -> None:
    tv_url = server.run_cli("url", "tv", "--base", server.url).stdout.decode().strip()
    answer = httpx.post(tv_url, content=b"buy 1 DOTUSDT confidence 0.95",
                        headers={"content-type": "text/plain"}, timeout=10)
    assert answer.json()["status"] == "awaiting_approval", answer.text
    signal_id = answer.json()["signal_id"]
    page.wait_for_selector(row(page, signal_id))
    page.wait_for_selector(f'#signals tr[data-id="{signal_id}"] td.status.expired',
                           timeout=15_000)  # its 2 s pass, the server expires it, the page sees
    page.wait_for_selector(row(page, signal_id), state="detached")
    assert server.signal(signal_id)["attempts"] == []
    assert executed(server) == {}


def test_a_restart_keeps_a_waiting_signal_which_is_then_approved_once(
    browser: Any, workdir: Path
) -> None:
    first = start_server(workdir, config_toml=CONFIG)
    try:
        kept = waiting_signal(first, "XRPUSDT")
        deadline = first.signal(kept)["approval_deadline"]
    finally:
        first.stop()
    again = start_server(workdir, config_toml=CONFIG)
    try:
        assert again.signal(kept)["status"] == "awaiting_approval"
        assert again.signal(kept)["approval_deadline"] == deadline
        with watched_page(browser, again.url + "/") as (page, errors):
            log_in(page, again.admin_token)
            page.wait_for_selector(f"{row(page, kept)} button.approve")
            page.click(f"{row(page, kept)} button.approve")
            page.wait_for_selector(f'#signals tr[data-id="{kept}"] td.status.filled')
            assert errors == []
        positions_become(again, {"XRPUSDT": 1.0})
    finally:
        again.stop()
