"""End to end: managed exits on MetaTrader 5, from `tradehook serve` to the fake terminal over
rpyc, counted at the terminal: the trailing stop is the position's stop-loss there, moved as the
price rises, a take-profit level closes its share once, and after kill -9 the position still
holds its stop at the terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugins.mt5.symbols import comment_for
from tests.e2e.mt5_terminal import PASSWORD, serve_with_terminal
from tests.e2e.server import RunningServer, wait_until
from tests.fakes.mt5_server import FakeMT5Server, serve_fake_mt5

pytestmark = pytest.mark.e2e

CONFIG = """
default_plugin = "forex"

[execution]
retry_base_delay = 0.05
exits_interval = 0.1
"""
EXITS = {"trailing_stop": {"amount": 0.002}, "take_profits": [{"price": 1.088, "share": 0.5}]}


@pytest.fixture
def terminal() -> Iterator[FakeMT5Server]:
    with serve_fake_mt5() as server:
        server.fake.fake_reset(login=5001, password=PASSWORD, server="FakeBroker-Demo")
        yield server


def position(terminal: FakeMT5Server) -> dict[str, Any]:
    held: list[dict[str, Any]] = terminal.state()["positions"]
    return held[0] if held else {}


def sent(terminal: FakeMT5Server, signal_id: str) -> int:
    """Trade requests that carried this signal's comment."""
    comment = comment_for(signal_id)
    return sum(r.get("comment", "").startswith(comment) for r in terminal.state()["requests"])


def enter(server: RunningServer) -> str:
    body = {"symbol": "EURUSD", "side": "buy", "quantity": 0.1, "exits": EXITS}
    return server.filled(body)


def test_the_trailing_stop_is_the_positions_stop_loss_and_survives_kill_9(
    terminal: FakeMT5Server, tmp_path: Path
) -> None:
    first = serve_with_terminal(tmp_path, terminal, CONFIG)
    try:
        entry = enter(first)
        # Filled at the ask 1.08512: the stop trails 0.002 behind, on the tick grid.
        wait_until(lambda: position(terminal).get("sl") == pytest.approx(1.08312))
        terminal.fake.fake_set_tick("EURUSD", 1.086, 1.08612)  # mid 1.08606
        wait_until(lambda: position(terminal).get("sl") == pytest.approx(1.08406))
        terminal.fake.fake_set_tick("EURUSD", 1.0881, 1.08822)  # mid 1.08816: level 1 reached
    finally:
        first.kill()
    second = serve_with_terminal(tmp_path, terminal, CONFIG)
    try:
        wait_until(lambda: position(terminal).get("volume") == pytest.approx(0.05), timeout=30)
        wait_until(lambda: position(terminal).get("sl") == pytest.approx(1.08616), timeout=30)
        assert (sent(terminal, entry), sent(terminal, f"{entry}.tp1")) == (1, 1)

        terminal.fake.fake_set_tick("EURUSD", 1.0861, 1.08622)  # the terminal's stop closes it
        wait_until(lambda: position(terminal) == {})
        wait_until(lambda: second.signal(entry)["exit_plan"]["state"] == "closed")
        assert sent(terminal, f"{entry}.stop") == 0
    finally:
        second.stop()
