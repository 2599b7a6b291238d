"""TradersPost JSON: actions and sentiments, quantity types, brackets, and what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plugins.orders import (
    ManagedExits,
    OrderAction,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingStop,
)
from webhook.decide.quantities import QuantityUnit
from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import PayloadError


def parse(**fields: Any) -> ParsedSignal:
    parsed = parse_alert(json.dumps({"ticker": "AAPL", **fields}).encode(), "traderspost")
    assert parsed.dialect == "traderspost"
    return parsed


def refused(**fields: Any) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse(**fields)
    return caught.value


def test_buy_opens_a_long() -> None:
    order = parse(action="buy", quantity=10).order
    assert (order.action, order.side, order.quantity) == (OrderAction.OPEN, OrderSide.BUY, 10)


def test_sell_with_bearish_sentiment_opens_a_short() -> None:
    order = parse(action="sell", sentiment="bearish", quantity=3).order
    assert (order.action, order.side) == (OrderAction.OPEN, OrderSide.SELL)


@pytest.mark.parametrize("sentiment", ["flat", "FLAT"])
def test_sell_with_flat_sentiment_closes_the_whole_long(sentiment: str) -> None:
    order = parse(action="sell", sentiment=sentiment, quantity=3).order
    assert (order.action, order.side, order.quantity) == (OrderAction.CLOSE, OrderSide.SELL, None)


def test_buy_with_flat_sentiment_covers_the_whole_short() -> None:
    order = parse(action="buy", sentiment="flat").order
    assert (order.action, order.side) == (OrderAction.CLOSE, OrderSide.BUY)


@pytest.mark.parametrize("sentiment", ["bullish", "long"])
def test_sell_that_leaves_a_long_open_closes_part_of_it(sentiment: str) -> None:
    order = parse(action="sell", sentiment=sentiment, quantity=4).order
    assert (order.action, order.side, order.quantity) == (OrderAction.CLOSE, OrderSide.SELL, 4)


def test_partial_close_without_a_quantity_is_refused() -> None:
    assert refused(action="sell", sentiment="long").field == "quantity"


def test_exit_closes_both_sides_whatever_the_quantity_when_flat() -> None:
    order = parse(action="exit", sentiment="flat", quantity=2).order
    assert (order.action, order.side, order.quantity) == (OrderAction.CLOSE, None, None)


def test_exit_with_a_quantity_closes_that_much() -> None:
    assert parse(action="exit", quantity=2).order.quantity == 2


def test_cancel_cancels_open_orders() -> None:
    order = parse(action="cancel", quantity=5, limitPrice=10).order
    assert (order.action, order.quantity, order.price) == (OrderAction.CANCEL, None, None)


@pytest.mark.parametrize(("sentiment", "side"), [("bullish", "buy"), ("short", "sell")])
def test_add_adds_on_the_side_of_the_sentiment(sentiment: str, side: str) -> None:
    order = parse(action="add", sentiment=sentiment, quantity=1).order
    assert (order.action, order.side) == (OrderAction.OPEN, OrderSide(side))


def test_add_without_a_sentiment_is_refused() -> None:
    assert refused(action="add", quantity=1).field == "sentiment"


@pytest.mark.parametrize(
    ("fields", "problem_field"),
    [
        ({"action": "hold"}, "action"),
        ({}, "action"),
        ({"action": "buy", "sentiment": "sideways", "quantity": 1}, "sentiment"),
        ({"action": "buy", "quantity": "ten"}, "quantity"),
        ({"action": "buy", "quantity": 1, "orderType": "iceberg"}, "orderType"),
        ({"action": "buy", "quantity": 1, "orderType": "limit"}, "limitPrice"),
        ({"action": "buy", "quantity": 1, "orderType": "stop"}, "stopPrice"),
        ({"action": "buy", "quantity": 1, "timeInForce": "forever"}, "timeInForce"),
        ({"action": "buy", "quantity": 1, "quantityType": "shares"}, "quantityType"),
        ({"action": "buy", "quantity": 1, "test": "maybe"}, "test"),
    ],
)
def test_unusable_field_is_named(fields: dict[str, Any], problem_field: str) -> None:
    assert refused(**fields).field == problem_field


def test_missing_ticker_is_named() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(b'{"action": "buy", "quantity": 1}', "traderspost")
    assert caught.value.field == "ticker"


@pytest.mark.parametrize(
    ("field", "value"),
    [("optionType", "call"), ("expiration", "+6 months"), ("trailAmount", 1),
     ("trailPercent", 2), ("extendedHours", True)],
)
def test_features_tradehook_lacks_are_refused_not_dropped(field: str, value: Any) -> None:
    assert refused(action="buy", quantity=1, **{field: value}).field == field


def test_trailing_stop_order_is_refused_pointing_to_the_trailing_stop_loss() -> None:
    error = refused(action="buy", quantity=1, orderType="trailing_stop")
    assert error.field == "orderType"
    assert "stopLoss" in str(error)
    documented = refused(action="sell", orderType="trailing_stop", trailAmount="2")
    assert documented.field == "trailAmount"
    assert "stopLoss" in str(documented)


def test_stop_limit_stop_loss_is_refused() -> None:
    error = refused(action="buy", quantity=1, stopLoss={"type": "stop_limit", "stopPrice": 90})
    assert error.field == "stopLoss.type"


def test_limit_price_and_relative_bracket_from_the_limit() -> None:
    order = parse(action="buy", quantity=10, orderType="limit", limitPrice=200,
                  takeProfit={"percent": 10}, stopLoss={"type": "stop", "amount": 5}).order
    assert (order.order_type, order.price) == (OrderType.LIMIT, 200)
    assert (order.take_profit, order.stop_loss) == (220, 195)


def test_sell_bracket_is_mirrored() -> None:
    order = parse(action="sell", quantity=1, signalPrice=100, takeProfit={"amount": 7},
                  stopLoss={"percent": 2}).order
    assert (order.take_profit, order.stop_loss) == (93, 102)


def test_absolute_bracket_prices_are_taken_as_they_are() -> None:
    order = parse(action="buy", quantity=1, takeProfit={"limitPrice": "250.5"},
                  stopLoss={"stopPrice": "180"}).order
    assert (order.take_profit, order.stop_loss) == (250.5, 180)


def test_relative_bracket_without_any_price_waits_for_the_plugin_price() -> None:
    parsed = parse(action="buy", quantity=1, takeProfit={"percent": 3})
    assert parsed.order.take_profit is None
    assert parsed.bracket is not None and parsed.bracket.take_profit is not None
    assert parsed.bracket.take_profit.percent == 3


@pytest.mark.parametrize(
    "table", [{"percent": 1, "amount": 2}, {"type": "limit"}, {"percent": 0}, {"percent": -5},
              "5%"]
)
def test_bracket_that_is_not_exactly_one_positive_distance_is_refused(table: object) -> None:
    error = refused(action="buy", quantity=1, price=100, takeProfit=table)
    assert error.field.startswith("takeProfit")


def test_empty_bracket_table_is_no_bracket() -> None:
    order = parse(action="buy", quantity=1, price=100, takeProfit={}).order
    assert order.take_profit is None


def test_order_type_follows_the_prices_given() -> None:
    assert parse(action="buy", quantity=1, limitPrice=5).order.order_type is OrderType.LIMIT
    assert parse(action="buy", quantity=1, stopPrice=5).order.order_type is OrderType.STOP
    both = parse(action="buy", quantity=1, limitPrice=5, stopPrice=4).order
    assert (both.order_type, both.price, both.stop_price) == (OrderType.STOP_LIMIT, 5, 4)


def test_signal_price_becomes_the_market_orders_reference_price() -> None:
    assert parse(action="buy", quantity=1, price="143.12").order.price == 143.12


@pytest.mark.parametrize(
    ("given", "unit"),
    [("fixed_quantity", QuantityUnit.UNITS), ("dollar_amount", QuantityUnit.QUOTE),
     ("percent_of_equity", QuantityUnit.PERCENT_OF_EQUITY),
     ("percent_of_position", QuantityUnit.PERCENT_OF_POSITION),
     ("risk_dollar_amount", QuantityUnit.RISK_AMOUNT), ("risk_percent", QuantityUnit.RISK_PERCENT)],
)
def test_quantity_type_says_how_to_read_the_quantity(given: str, unit: QuantityUnit) -> None:
    parsed = parse(action="buy", quantity=50, quantityType=given)
    assert (parsed.quantity_unit, parsed.order.quantity) == (unit, 50)


def test_time_in_force_travels_with_the_order() -> None:
    order = parse(action="buy", quantity=1, limitPrice=9, timeInForce="GTC").order
    assert order.time_in_force is TimeInForce.GTC


def test_test_alert_is_marked() -> None:
    assert parse(action="buy", quantity=1, test=True).test
    assert not parse(action="buy", quantity=1, test=False).test


def test_fields_traderspost_ignores_are_ignored() -> None:
    parsed = parse(action="buy", quantity=1, time="2026-11-20T14:30:00Z", interval="5",
                   extras={"note": "x"}, whatever="y")
    assert parsed.order.quantity == 1


def test_placeholder_left_unfilled_is_named() -> None:
    assert refused(action="buy", quantity="{{strategy.order.contracts}}").field == "quantity"


def test_default_quantity_fills_an_opening_alert_without_one() -> None:
    body = json.dumps({"ticker": "AAPL", "action": "buy"}).encode()
    parsed = parse_alert(body, "traderspost", default_quantity=7)
    assert (parsed.order.quantity, parsed.default_quantity) == (7, True)
    closing = json.dumps({"ticker": "AAPL", "action": "exit"}).encode()
    assert parse_alert(closing, "traderspost", default_quantity=7).order.quantity is None


# Trailing stop losses become the order's managed trailing stop; TradersPost's trailing stop
# orders, breakeven action and take-profit lists are refused, each naming the field.

BUY: dict[str, Any] = {"action": "buy", "quantity": 10, "orderType": "limit", "limitPrice": 100}


def test_trailing_stop_loss_by_amount_is_a_trailing_stop_by_amount() -> None:
    order = parse(**BUY, stopLoss={"type": "trailing_stop", "trailAmount": "2"}).order
    assert order.exits == ManagedExits(trailing_stop=TrailingStop(amount=2))
    assert order.stop_loss is None


def test_trailing_stop_loss_by_percent_is_a_trailing_stop_by_percent() -> None:
    order = parse(**BUY, stopLoss={"type": "trailing_stop", "trailPercent": 5},
                  takeProfit={"percent": 10}).order
    assert order.exits == ManagedExits(trailing_stop=TrailingStop(percent=5))
    assert order.take_profit == 110


def test_a_short_entry_takes_a_trailing_stop_loss() -> None:
    order = parse(action="sell", sentiment="bearish", quantity=3,
                  stopLoss={"type": "trailing_stop", "trailAmount": 1.5}).order
    assert order.exits == ManagedExits(trailing_stop=TrailingStop(amount=1.5))


def test_trailing_stop_loss_without_a_trail_value_names_trail_amount() -> None:
    error = refused(**BUY, stopLoss={"type": "trailing_stop"})
    assert error.field == "stopLoss.trailAmount"


def test_trailing_stop_loss_with_a_fixed_distance_says_which_type_that_is_for() -> None:
    error = refused(**BUY, stopLoss={"type": "trailing_stop", "amount": 2})
    assert error.field == "stopLoss.trailAmount"
    assert "stopLoss.amount is for type stop" in str(error)


def test_trailing_stop_loss_with_both_trail_values_is_refused() -> None:
    error = refused(**BUY, stopLoss={"type": "trailing_stop", "trailAmount": 2, "trailPercent": 5})
    assert error.field == "stopLoss"


@pytest.mark.parametrize("value", [0, -1, "two"])
def test_trail_amount_must_be_a_positive_number(value: Any) -> None:
    error = refused(**BUY, stopLoss={"type": "trailing_stop", "trailAmount": value})
    assert error.field == "stopLoss.trailAmount"


def test_trail_percent_of_the_whole_price_is_refused() -> None:
    error = refused(**BUY, stopLoss={"type": "trailing_stop", "trailPercent": 100})
    assert error.field == "stopLoss.trailPercent"


@pytest.mark.parametrize("field", ["trailAmount", "trailPercent"])
def test_top_level_trail_values_belong_to_trailing_stop_orders_and_are_refused(field: str) -> None:
    error = refused(**BUY, **{field: 2})
    assert error.field == field
    assert "orderType trailing_stop" in str(error)


def test_breakeven_action_is_refused_with_the_reason() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(b'{"ticker": "SPY", "action": "breakeven", "orderType": "stop"}')
    assert caught.value.field == "action"
    assert "average entry price" in str(caught.value)


def test_breakeven_offset_is_refused() -> None:
    assert refused(**BUY, breakevenOffset=5).field == "breakevenOffset"


def test_a_list_of_take_profits_is_refused_pointing_to_the_ladder() -> None:
    error = refused(**BUY, takeProfit=[{"percent": 5}, {"percent": 10}])
    assert error.field == "takeProfit"
    assert "exits.take_profits" in str(error)
