"""The paper account's book kept in its state file across restarts, and prices from a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plugins.errors import PluginConfigError
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import Order, OrderSide

pytestmark = pytest.mark.anyio


async def paper(tmp_path: Path, **options: object) -> MockPlugin:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig.model_validate({
        "delay_ms": 0, "slippage": 0, "prices": {"ES": 100},
        "state_file": tmp_path / "paper.json", "prices_file": tmp_path / "prices.json",
        **options}))
    return plugin


def buy(quantity: float, client_order_id: str) -> Order:
    return Order.model_validate({"symbol": "ES", "side": "buy", "quantity": quantity,
                                 "client_order_id": client_order_id})


async def test_a_restarted_account_has_its_positions_stops_and_orders_back(
    tmp_path: Path,
) -> None:
    first = await paper(tmp_path)
    await first.execute_order(buy(2, "entry-1"))
    await first.move_position_stop("ES", OrderSide.BUY, 95)
    await first.execute_order(buy(2, "entry-1"))  # a repeat: answered, not filled again

    again = await paper(tmp_path)

    assert (again.position("ES"), again.stop("ES")) == (2, 95)
    assert list(again.received) == ["entry-1", "entry-1"]
    found = await again.lookup_order("entry-1")
    assert found is not None and found.filled_quantity == 2


async def test_the_prices_file_moves_the_price_and_fires_a_stop_it_crosses(
    tmp_path: Path,
) -> None:
    plugin = await paper(tmp_path)
    await plugin.execute_order(buy(1, "entry-2"))
    await plugin.move_position_stop("ES", OrderSide.BUY, 95)
    prices = tmp_path / "prices.json"

    prices.write_text(json.dumps({"ES": 97}), encoding="utf-8")
    assert (await plugin.fetch_data("ES")).last == 97
    prices.write_text(json.dumps({"ES": 94.5}), encoding="utf-8")
    os.utime(prices, ns=(1, 1))  # a change even where the clock's step hides it
    await plugin.fetch_data("ES")

    assert plugin.position("ES") == 0
    assert [fill.average_price for fill in plugin.stop_fills] == [94.5]
    assert (await paper(tmp_path)).stop_fills == plugin.stop_fills


async def test_a_state_file_that_is_not_a_book_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "paper.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(PluginConfigError, match="state_file .*paper.json"):
        await paper(tmp_path)
