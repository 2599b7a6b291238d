"""The paper account's book kept in its state file across restarts, and prices from a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plugins import paper_book
from plugins.errors import PluginConfigError
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import Order, OrderSide
from plugins.paper_book import PaperBook, read_book

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


def lines(tmp_path: Path) -> list[bytes]:
    return (tmp_path / "paper.json").read_bytes().splitlines()


async def test_an_order_appends_a_line_and_leaves_the_book_before_it(tmp_path: Path) -> None:
    # Rewritten whole after every order, the file cost each order a copy of the whole history
    # (2.5 MB and 20 ms of CPU with 10,000 orders remembered: `python -m bench.paper_state`).
    plugin = await paper(tmp_path)
    await plugin.execute_order(buy(1, "entry-0"))  # the first write: the whole book
    book = lines(tmp_path)[0]
    for n in range(1, 40):
        await plugin.execute_order(buy(1, f"entry-{n}"))

    written = lines(tmp_path)
    assert written[0] == book
    assert len(written) == 40
    assert max(len(line) for line in written[1:]) < 1_000
    again = await paper(tmp_path)
    assert again.position("ES") == 40
    assert list(again.received) == [f"entry-{n}" for n in range(40)]


async def test_every_snapshot_every_changes_the_file_is_the_book_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paper_book, "SNAPSHOT_EVERY", 5)
    plugin = await paper(tmp_path)
    for n in range(7):  # the book, five changes, then the book again
        await plugin.execute_order(buy(1, f"entry-{n}"))

    assert len(lines(tmp_path)) == 1
    assert read_book(tmp_path / "paper.json").positions == {"ES": 7}


async def test_a_line_cut_short_by_a_crash_is_dropped_and_not_written_after(
    tmp_path: Path,
) -> None:
    first = await paper(tmp_path)
    await first.execute_order(buy(1, "entry-1"))
    await first.execute_order(buy(1, "entry-2"))
    await first.execute_order(buy(1, "entry-3"))
    whole = (tmp_path / "paper.json").read_bytes()
    (tmp_path / "paper.json").write_bytes(whole[:-40])  # the last append, cut in the middle

    again = await paper(tmp_path)
    assert list(again.received) == ["entry-1", "entry-2"]
    await again.execute_order(buy(1, "entry-4"))

    assert list((await paper(tmp_path)).received) == ["entry-1", "entry-2", "entry-4"]
    assert read_book(tmp_path / "paper.json").positions == {"ES": 3}


async def test_a_book_an_earlier_release_wrote_is_read_and_appended_to(tmp_path: Path) -> None:
    earlier = PaperBook(positions={"ES": 2}, stops={"ES": (OrderSide.BUY, 95)},
                        received=["entry-1"])
    (tmp_path / "paper.json").write_text(earlier.model_dump_json(), encoding="utf-8")

    plugin = await paper(tmp_path)
    assert (plugin.position("ES"), plugin.stop("ES")) == (2, 95)
    await plugin.execute_order(buy(1, "entry-2"))
    await plugin.execute_order(buy(1, "entry-3"))

    again = await paper(tmp_path)
    assert (again.position("ES"), again.stop("ES")) == (4, 95)
    assert list(again.received) == ["entry-1", "entry-2", "entry-3"]


async def test_a_flat_position_and_a_gone_stop_stay_gone_after_a_restart(
    tmp_path: Path,
) -> None:
    plugin = await paper(tmp_path)
    await plugin.execute_order(buy(1, "entry-1"))
    await plugin.move_position_stop("ES", OrderSide.BUY, 95)
    await plugin.execute_order(Order.model_validate(
        {"symbol": "ES", "action": "close", "client_order_id": "exit-1"}))

    again = await paper(tmp_path)
    assert (again.position("ES"), again.stop("ES")) == (0, None)
    assert len(lines(tmp_path)) == 3  # the book, the stop, the close


async def test_a_broken_line_inside_the_file_is_refused_naming_it(tmp_path: Path) -> None:
    plugin = await paper(tmp_path)
    await plugin.execute_order(buy(1, "entry-1"))
    await plugin.execute_order(buy(1, "entry-2"))
    book, *changes = lines(tmp_path)
    (tmp_path / "paper.json").write_bytes(b"\n".join([book, b"{not json", *changes, b""]))

    with pytest.raises(PluginConfigError, match="state_file .*paper.json, line 2"):
        await paper(tmp_path)


async def test_after_a_failed_append_the_next_write_is_the_whole_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugin = await paper(tmp_path)
    await plugin.execute_order(buy(1, "entry-1"))

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as failing:
        failing.setattr(paper_book, "_sync", disk_full)
        with pytest.raises(OSError, match="No space left"):
            await plugin.execute_order(buy(1, "entry-2"))
    await plugin.execute_order(buy(1, "entry-3"))

    assert len(lines(tmp_path)) == 1  # what the failed append left is replaced
    again = await paper(tmp_path)
    assert again.position("ES") == 3
    assert list(again.received) == ["entry-1", "entry-2", "entry-3"]
