"""The mt5 plugin's orders, against the fake terminal over rpyc and in process."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.errors import OrderRejected, UnknownSymbol
from plugins.orders import ExecutionStatus, Order
from tests.fakes import mt5_structures as c
from tests.plugins.mt5_fixtures import (
    SIGNAL_ID,
    FakeMT5,
    fake_mt5,
    mt5_server,
    order,
    started_mt5,
)

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio


def last_request(fake: FakeMT5) -> dict[str, Any]:
    requests: list[dict[str, Any]] = fake.state()["requests"]
    return requests[-1]


async def test_market_buy_is_a_deal_at_the_ask_with_deviation_magic_and_comment(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5, magic=4242, deviation=15) as plugin:
        result = await plugin.execute_order(order())
    sent = last_request(fake_mt5)
    assert sent["action"] == c.TRADE_ACTION_DEAL and sent["type"] == c.ORDER_TYPE_BUY
    assert (sent["price"], sent["deviation"], sent["magic"]) == (1.08512, 15, 4242)
    assert sent["comment"] == f"th:{SIGNAL_ID}"
    assert result.status is ExecutionStatus.FILLED
    assert (result.filled_quantity, result.average_price) == (0.1, 1.08512)


async def test_market_sell_is_a_deal_at_the_bid(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(side="sell"))
    sent = last_request(fake_mt5)
    assert (sent["type"], sent["price"]) == (c.ORDER_TYPE_SELL, 1.085)
    assert fake_mt5.net_position("EURUSD") == -0.1
    assert result.average_price == 1.085


@pytest.mark.parametrize(
    ("fields", "mt5_type", "price", "stoplimit", "filling"),
    [
        ({"order_type": "limit", "price": 1.08}, c.ORDER_TYPE_BUY_LIMIT, 1.08, None,
         c.ORDER_FILLING_RETURN),
        ({"order_type": "stop", "stop_price": 1.09}, c.ORDER_TYPE_BUY_STOP, 1.09, None,
         c.ORDER_FILLING_FOK),
        (
            {"order_type": "stop_limit", "stop_price": 1.09, "price": 1.0905},
            c.ORDER_TYPE_BUY_STOP_LIMIT, 1.09, 1.0905, c.ORDER_FILLING_RETURN,
        ),
        (
            {"order_type": "limit", "price": 1.09, "side": "sell"},
            c.ORDER_TYPE_SELL_LIMIT, 1.09, None, c.ORDER_FILLING_RETURN,
        ),
    ],
    ids=["buy-limit", "buy-stop", "buy-stop-limit", "sell-limit"],
)  # fmt: skip
async def test_limit_and_stop_orders_are_pending_orders_that_rest(
    fake_mt5: FakeMT5, fields: dict[str, Any], mt5_type: int, price: float,
    stoplimit: float | None, filling: int,
) -> None:  # fmt: skip
    """Limits rest with RETURN; a stop becomes a market order, so it takes a market filling
    mode (Market execution: FOK here), not RETURN."""
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(**fields))
    sent = last_request(fake_mt5)
    assert sent["action"] == c.TRADE_ACTION_PENDING
    assert (sent["type"], sent["price"], sent.get("stoplimit")) == (mt5_type, price, stoplimit)
    assert sent["type_filling"] == filling
    assert result.status is ExecutionStatus.PLACED and result.filled_quantity == 0
    assert [o["ticket"] for o in fake_mt5.state()["orders"]] == [int(result.order_id or 0)]


async def test_stop_loss_and_take_profit_travel_in_the_request(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(stop_loss=1.08, take_profit=1.09))
    sent = last_request(fake_mt5)
    assert (sent["sl"], sent["tp"]) == (1.08, 1.09)
    assert fake_mt5.state()["positions"][0]["sl"] == 1.08


async def test_a_resting_order_fills_when_the_price_reaches_it(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(order_type="limit", price=1.08))
        fake_mt5.fake_set_tick("EURUSD", 1.0795, 1.0799)
        found = await plugin.lookup_order(SIGNAL_ID)
    assert found is not None and found.status is ExecutionStatus.FILLED
    assert found.average_price == 1.08


async def test_volume_is_rounded_to_the_symbol_volume_step(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(quantity=0.1234))
    assert last_request(fake_mt5)["volume"] == 0.12
    assert result.filled_quantity == 0.12


@pytest.mark.parametrize(("quantity", "limit"), [(0.004, "minimum"), (250, "maximum")])
async def test_volume_outside_the_symbol_limits_is_refused_before_sending(
    fake_mt5: FakeMT5, quantity: float, limit: str
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match=f"{limit} volume"):
            await plugin.execute_order(order(quantity=quantity))
    assert fake_mt5.state()["requests"] == []


@pytest.mark.parametrize(
    ("symbol", "filling"),
    [("EURUSD", c.ORDER_FILLING_FOK), ("XAUUSD", c.ORDER_FILLING_IOC),
     ("US500", c.ORDER_FILLING_RETURN)],
)  # fmt: skip
async def test_market_filling_mode_is_one_the_symbol_allows(
    fake_mt5: FakeMT5, symbol: str, filling: int
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(symbol=symbol, quantity=1))
    assert last_request(fake_mt5)["type_filling"] == filling
    assert result.status is ExecutionStatus.FILLED


async def test_configured_filling_mode_wins(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5, filling="ioc") as plugin:
        await plugin.execute_order(order())
    assert last_request(fake_mt5)["type_filling"] == c.ORDER_FILLING_IOC


async def test_a_long_client_order_id_becomes_a_stable_comment_within_31_characters(
    fake_mt5: FakeMT5,
) -> None:
    long_id = "tradingview-alert-" + "x" * 40
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(client_order_id=long_id))
        found = await plugin.lookup_order(long_id)
    comment = last_request(fake_mt5)["comment"]
    assert len(comment) <= 31 and comment.startswith("th:")
    assert found is not None and found.filled_quantity == 0.1


async def test_signal_symbols_map_to_broker_symbols(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_add_symbol("EURUSD.m", 1.1, 1.1001)
    fake_mt5.fake_add_symbol("GER40.cash", 18000.0, 18001.0, digits=1)
    async with started_mt5(
        fake_mt5, symbol_suffix=".m", symbols={"DE40": "GER40.cash"}
    ) as plugin:
        await plugin.execute_order(order(symbol="FX:EURUSD"))
        await plugin.execute_order(order(symbol="DE40", client_order_id="other"))
    assert [r["symbol"] for r in fake_mt5.state()["requests"]] == ["EURUSD.m", "GER40.cash"]


async def test_symbols_are_selected_in_market_watch(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5, symbols={"GOLD": "XAUUSD"}) as plugin:
        assert fake_mt5.state()["visible"] == ["XAUUSD"]
        await plugin.execute_order(order(symbol="GBPUSD"))
    assert fake_mt5.state()["visible"] == ["GBPUSD", "XAUUSD"]


async def test_an_unknown_symbol_is_refused_as_unknown(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(UnknownSymbol, match="NOSUCH"):
            await plugin.execute_order(order(symbol="NOSUCH"))


async def test_close_sends_an_opposite_deal_against_each_position(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        for n, quantity in enumerate((0.1, 0.2, 0.3)):
            await plugin.execute_order(order(quantity=quantity, client_order_id=f"open{n}"))
        tickets = [p["ticket"] for p in fake_mt5.state()["positions"]]
        result = await plugin.execute_order(Order(symbol="EURUSD", action="close",
                                                  client_order_id="close1"))  # fmt: skip
    closes = fake_mt5.state()["requests"][3:]
    assert [r["position"] for r in closes] == tickets
    assert {(r["type"], r["price"], r["comment"]) for r in closes} == {
        (c.ORDER_TYPE_SELL, 1.085, "th:close1:x")
    }
    assert fake_mt5.state()["positions"] == []
    assert result.status is ExecutionStatus.FILLED and result.filled_quantity == pytest.approx(0.6)


async def test_close_with_a_side_closes_only_that_side(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(client_order_id="long"))
        await plugin.execute_order(order(side="sell", quantity=0.2, client_order_id="short"))
        await plugin.execute_order(Order(symbol="EURUSD", action="close", side="sell"))
    assert [(p["type"], p["volume"]) for p in fake_mt5.state()["positions"]] == [
        (c.POSITION_TYPE_SELL, 0.2)
    ]


async def test_close_with_a_quantity_closes_the_oldest_positions_first(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(quantity=0.1, client_order_id="first"))
        await plugin.execute_order(order(quantity=0.3, client_order_id="second"))
        await plugin.execute_order(Order(symbol="EURUSD", action="close", quantity=0.2))
    assert [(p["comment"], p["volume"]) for p in fake_mt5.state()["positions"]] == [
        ("th:second", 0.2)
    ]


async def test_close_without_a_position_is_refused(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="no open position in EURUSD"):
            await plugin.execute_order(Order(symbol="EURUSD", action="close"))


async def test_reverse_closes_the_short_positions_then_opens_long(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(side="sell", quantity=0.2, client_order_id="short1"))
        await plugin.execute_order(order(side="sell", quantity=0.1, client_order_id="short2"))
        result = await plugin.execute_order(
            Order(symbol="EURUSD", action="reverse", side="buy", client_order_id="rev")
        )
    assert fake_mt5.net_position("EURUSD") == pytest.approx(0.3)
    comments = [r["comment"] for r in fake_mt5.state()["requests"][2:]]
    assert comments == ["th:rev:r", "th:rev:r", "th:rev"]
    assert result.filled_quantity == pytest.approx(0.6)


async def test_reverse_to_the_side_already_held_is_refused(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order())
        with pytest.raises(OrderRejected, match="already"):
            await plugin.execute_order(Order(symbol="EURUSD", action="reverse", side="buy"))


async def test_cancel_removes_each_pending_order_of_the_symbol(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(order_type="limit", price=1.08, client_order_id="a"))
        await plugin.execute_order(order(order_type="stop", stop_price=1.09, client_order_id="b"))
        await plugin.execute_order(order(symbol="GBPUSD", order_type="limit", price=1.2,
                                         client_order_id="c"))  # fmt: skip
        result = await plugin.execute_order(Order(symbol="EURUSD", action="cancel"))
    removes = fake_mt5.state()["requests"][3:]
    assert [r["action"] for r in removes] == [c.TRADE_ACTION_REMOVE] * 2
    assert [o["symbol"] for o in fake_mt5.state()["orders"]] == ["GBPUSD"]
    assert result.status is ExecutionStatus.CANCELLED


async def test_cancel_with_a_side_keeps_the_other_side(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(order_type="limit", price=1.08, client_order_id="a"))
        await plugin.execute_order(order(side="sell", order_type="limit", price=1.09,
                                         client_order_id="b"))  # fmt: skip
        await plugin.execute_order(Order(symbol="EURUSD", action="cancel", side="sell"))
    assert [o["type"] for o in fake_mt5.state()["orders"]] == [c.ORDER_TYPE_BUY_LIMIT]


async def test_cancel_without_pending_orders_is_refused(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="no open orders on EURUSD"):
            await plugin.execute_order(Order(symbol="EURUSD", action="cancel"))


async def test_sending_a_signal_again_does_not_trade_again(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        first = await plugin.execute_order(order())
        again = await plugin.execute_order(order())
    assert len(fake_mt5.state()["deals"]) == 1
    assert again.order_id == first.order_id and again.status is ExecutionStatus.FILLED


async def test_lookup_finds_the_order_of_a_client_order_id(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        placed = await plugin.execute_order(order())
        found = await plugin.lookup_order(SIGNAL_ID)
        missing = await plugin.lookup_order("01JDQ3F6Z8X2K9M4N7P5R0S1ZZ")
    assert found is not None and missing is None
    assert (found.order_id, found.filled_quantity) == (placed.order_id, 0.1)


async def test_lookup_ignores_orders_of_another_magic_number(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5, magic=1) as plugin:
        await plugin.execute_order(order())
    async with started_mt5(fake_mt5, magic=2) as plugin:
        assert await plugin.lookup_order(SIGNAL_ID) is None


@pytest.mark.parametrize(("tif", "filling"), [("ioc", c.ORDER_FILLING_IOC),
                                              ("fok", c.ORDER_FILLING_FOK)])  # fmt: skip
async def test_immediate_time_in_force_sets_the_market_filling_mode(
    fake_mt5: FakeMT5, tif: str, filling: int
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(time_in_force=tif))
    assert last_request(fake_mt5)["type_filling"] == filling


async def test_fill_or_kill_on_a_symbol_without_it_is_refused(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="XAUUSD does not allow fok"):
            await plugin.execute_order(order(symbol="XAUUSD", time_in_force="fok"))
    assert fake_mt5.state()["requests"] == []


async def test_day_pending_orders_expire_at_the_end_of_the_day(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(order_type="limit", price=1.08, time_in_force="day"))
    assert last_request(fake_mt5)["type_time"] == c.ORDER_TIME_DAY


@pytest.mark.parametrize(
    "fields",
    [{"order_type": "limit", "price": 1.08, "time_in_force": "ioc"}, {"time_in_force": "opg"}],
    ids=["pending-ioc", "market-opg"],
)
async def test_a_time_in_force_the_terminal_cannot_honour_is_refused(
    fake_mt5: FakeMT5, fields: dict[str, Any]
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="time in force"):
            await plugin.execute_order(order(**fields))
    assert fake_mt5.state()["requests"] == []
