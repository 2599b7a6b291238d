"""End to end: managed exits from `tradehook serve` to the paper account, whose prices the test
moves through its prices file and whose book (its state file) is read to count what reached it:
a trailing stop that follows the price and fires once, a break-even move after the first
take-profit fills, a three-level ladder, and kill -9 while a plan is active."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from plugins.paper_book import PaperBook, read_book
from tests.e2e.server import RunningServer, start_server, wait_until

pytestmark = pytest.mark.e2e

CONFIG = """
default_plugin = "paper"

[execution]
exits_interval = 0.1

[plugins.paper]
type = "mock"
delay_ms = 0
slippage = 0
state_file = "{workdir}/paper.json"
prices_file = "{workdir}/prices.json"

[plugins.paper.prices]
ES = 100
"""


class Paper:
    """The paper account as the test sees it: its prices file and its book."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def price(self, price: float) -> None:
        written = self.workdir / "prices.json.new"
        written.write_text(json.dumps({"ES": price}), encoding="utf-8")
        os.replace(written, self.workdir / "prices.json")

    def book(self) -> PaperBook:
        return read_book(self.workdir / "paper.json")

    def position(self) -> float:
        return self.book().positions.get("ES", 0.0)

    def stop(self) -> float | None:
        held = self.book().stops.get("ES")
        return None if held is None else held[1]

    def sent(self, client_order_id: str) -> int:
        """How many times an order with this id reached the account."""
        return self.book().received.count(client_order_id)

    def stop_fills(self) -> int:
        return len(self.book().stop_fills)


def serve(workdir: Path, port: int | None = None) -> RunningServer:
    return start_server(workdir, config_toml=CONFIG.format(workdir=workdir), port=port)


def enter(server: RunningServer, exits: dict[str, Any], quantity: float = 2,
          **fields: Any) -> str:
    body = {"symbol": "ES", "side": "buy", "quantity": quantity, "exits": exits, **fields}
    return server.filled(body)


def plan(server: RunningServer, entry: str) -> dict[str, Any]:
    found: dict[str, Any] = server.signal(entry).get("exit_plan") or {}
    return found


@pytest.fixture
def paper(tmp_path: Path) -> Paper:
    return Paper(tmp_path)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    running = serve(tmp_path)
    yield running
    running.stop()


def test_a_trailing_stop_follows_the_price_and_fires_once(server: RunningServer,
                                                           paper: Paper) -> None:
    entry = enter(server, {"trailing_stop": {"amount": 5}})
    wait_until(lambda: paper.stop() == 95)
    parts = server.admin_get("/api/plugins").json()["plugins"][0]["exits"]
    assert parts == {"stop": "native", "trailing_stop": "managed", "break_even": "managed",
                     "take_profits": "managed"}

    paper.price(110)
    wait_until(lambda: paper.stop() == 105)
    paper.price(104)
    wait_until(lambda: paper.position() == 0)
    wait_until(lambda: plan(server, entry).get("state") == "closed")
    paper.price(90)
    wait_until(lambda: server.signal(entry)["exit_plan"]["best_price"] == 110)

    assert paper.stop_fills() == 1
    assert paper.sent(f"{entry}.stop") == 0  # the account's own stop closed it
    assert server.signal(entry)["exits"] == []


def test_break_even_moves_the_stop_after_the_first_take_profit_fills(
    server: RunningServer, paper: Paper
) -> None:
    entry = enter(server, {"take_profits": [{"price": 105, "share": 0.5},
                                            {"price": 120, "share": 0.5}],
                           "break_even": {"after_take_profit": True, "offset": 1}},
                  stop_loss=95)
    wait_until(lambda: paper.stop() == 95)

    paper.price(106)
    wait_until(lambda: paper.position() == 1)
    wait_until(lambda: paper.stop() == 101)

    assert paper.sent(f"{entry}.tp1") == 1
    shown = server.signal(entry)
    assert (shown["exit_plan"]["break_even_done"], shown["exit_plan"]["stop"]) == (True, 101)
    assert [(o["id"], o["status"]) for o in shown["exits"]] == [(f"{entry}.tp1", "filled")]


def test_a_three_level_ladder_closes_the_position_in_its_shares(
    server: RunningServer, paper: Paper
) -> None:
    entry = enter(server, {"take_profits": [{"price": 105, "share": 0.25},
                                            {"price": 110, "share": 0.25},
                                            {"price": 115, "share": 0.5}]}, quantity=4)

    for price, left in ((105, 3), (110, 2), (116, 0)):
        paper.price(price)
        wait_until(lambda left=left: paper.position() == left)  # type: ignore[misc]

    wait_until(lambda: plan(server, entry).get("state") == "closed")
    exits = server.signal(entry)["exits"]
    assert [(o["id"].rpartition(".")[2], o["order"]["quantity"], o["status"]) for o in exits] \
        == [("tp1", 1, "filled"), ("tp2", 1, "filled"), ("tp3", 2, "filled")]
    assert all(paper.sent(f"{entry}.tp{n}") == 1 for n in (1, 2, 3))


def test_kill_9_while_a_plan_is_active_places_no_exit_twice_and_keeps_the_stop(
    server: RunningServer, paper: Paper, tmp_path: Path
) -> None:
    entry = enter(server, {"trailing_stop": {"amount": 5},
                           "take_profits": [{"price": 110, "share": 0.5}]})
    wait_until(lambda: paper.stop() == 95)
    paper.price(111)  # a take-profit and a stop move on their way

    server.kill()
    restarted = serve(tmp_path, port=int(server.url.rsplit(":", 1)[1]))
    try:
        wait_until(lambda: paper.position() == 1, timeout=30)
        wait_until(lambda: paper.stop() == 106, timeout=30)
        assert (paper.sent(entry), paper.sent(f"{entry}.tp1")) == (1, 1)

        paper.price(100)
        wait_until(lambda: paper.position() == 0)
        wait_until(lambda: plan(restarted, entry).get("state") == "closed")
        assert paper.stop_fills() == 1
        assert paper.sent(f"{entry}.stop") == 0
    finally:
        restarted.stop()
