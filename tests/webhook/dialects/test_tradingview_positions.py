"""TradingView strategy alerts: what the market position says about close and reverse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plugins.orders import OrderAction, OrderSide
from webhook.decide.quantities import QuantityUnit
from webhook.dialects import parse_alert
from webhook.errors import PayloadError


def order_of(**fields: Any) -> Any:
    return parse_alert(json.dumps({"ticker": "BTCUSDT", **fields}).encode(), "tradingview").order


def test_sell_that_leaves_the_strategy_long_reduces_the_long() -> None:
    order = order_of(action="sell", contracts="0.5", position="long", position_size="1")
    assert (order.action, order.side, order.quantity) == (OrderAction.CLOSE, OrderSide.SELL, 0.5)


def test_buy_that_leaves_the_strategy_short_reduces_the_short() -> None:
    order = order_of(action="buy", contracts="2", market_position="short")
    assert (order.action, order.side, order.quantity) == (OrderAction.CLOSE, OrderSide.BUY, 2)


def test_reducing_without_contracts_is_refused() -> None:
    with pytest.raises(PayloadError) as caught:
        order_of(action="sell", position="long")
    assert caught.value.field == "action"


def test_flip_from_short_to_long_reverses_to_the_new_position_size() -> None:
    order = order_of(action="buy", contracts="2", position="long", prev_market_position="short",
                     position_size="1")
    assert (order.action, order.side, order.quantity) == (OrderAction.REVERSE, OrderSide.BUY, 1)


def test_flip_without_position_size_reverses_to_the_same_size() -> None:
    order = order_of(action="sell", contracts="2", position="short", prev_position="long")
    assert (order.action, order.side, order.quantity) == (OrderAction.REVERSE, OrderSide.SELL,
                                                          None)


def test_adding_in_the_same_direction_stays_an_open() -> None:
    order = order_of(action="buy", contracts="1", position="long", prev_market_position="long")
    assert (order.action, order.quantity) == (OrderAction.OPEN, 1)


def test_wrong_previous_position_is_named() -> None:
    with pytest.raises(PayloadError) as caught:
        order_of(action="buy", contracts="1", position="long", prev_market_position="up")
    assert caught.value.field == "prev_market_position"


def test_quantity_unit_and_time_in_force_are_read() -> None:
    body = json.dumps({"ticker": "BTCUSDT", "action": "buy", "contracts": "100",
                       "quantity_unit": "quote", "time_in_force": "IOC"}).encode()
    parsed = parse_alert(body)
    assert parsed.quantity_unit is QuantityUnit.QUOTE
    assert parsed.order.time_in_force == "ioc"
