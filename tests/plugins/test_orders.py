from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.orders import Order, OrderAction, OrderSide, OrderType


def _error_field(**fields: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(fields)
    error = caught.value.errors()[0]
    return str((error.get("ctx") or {}).get("field") or error["loc"][0])


def test_confidence_defaults_to_0_6() -> None:
    assert Order(symbol="BTC/USDT", side=OrderSide.BUY, quantity=1).confidence == 0.6


def test_order_round_trips_through_json() -> None:
    order = Order(symbol="ES", side=OrderSide.SELL, order_type=OrderType.LIMIT, quantity=2,
                  price=5000, stop_loss=5010, take_profit=4980, confidence=0.8)
    assert Order.model_validate_json(order.model_dump_json()) == order


@pytest.mark.parametrize("quantity", [0, -1, float("nan"), float("inf")])
def test_quantity_must_be_a_positive_number(quantity: float) -> None:
    assert _error_field(symbol="X", side="buy", quantity=quantity) == "quantity"


@pytest.mark.parametrize("confidence", [-0.1, 1.01, 7])
def test_confidence_must_lie_between_0_and_1(confidence: float) -> None:
    assert _error_field(symbol="X", side="buy", quantity=1, confidence=confidence) == "confidence"


def test_opening_needs_a_side_and_a_quantity() -> None:
    assert _error_field(symbol="X", quantity=1) == "side"
    assert _error_field(symbol="X", side="buy") == "quantity"


def test_close_and_cancel_need_neither_side_nor_quantity() -> None:
    assert Order(symbol="X", action=OrderAction.CLOSE).side is None
    assert Order(symbol="X", action=OrderAction.CANCEL).quantity is None


def test_limit_order_needs_a_price() -> None:
    assert _error_field(symbol="X", side="buy", quantity=1, order_type="limit") == "price"


def test_stop_order_needs_a_stop_price() -> None:
    assert _error_field(symbol="X", side="buy", quantity=1, order_type="stop") == "stop_price"


def test_stop_limit_order_needs_both_prices() -> None:
    fields = {"symbol": "X", "side": "buy", "quantity": 1, "order_type": "stop_limit"}
    assert _error_field(**fields, stop_price=10) == "price"
    assert _error_field(**fields, price=10) == "stop_price"


def test_buy_stop_loss_must_be_below_the_entry() -> None:
    fields = {"symbol": "X", "side": "buy", "quantity": 1, "price": 100}
    assert _error_field(**fields, stop_loss=101) == "stop_loss"
    assert _error_field(**fields, take_profit=99) == "take_profit"
    assert Order.model_validate({**fields, "stop_loss": 99, "take_profit": 101})


def test_sell_bracket_is_mirrored() -> None:
    fields = {"symbol": "X", "side": "sell", "quantity": 1, "price": 100}
    assert _error_field(**fields, stop_loss=99) == "stop_loss"
    assert _error_field(**fields, take_profit=101) == "take_profit"
    assert Order.model_validate({**fields, "stop_loss": 101, "take_profit": 99})


def test_bracket_without_a_price_must_still_be_ordered() -> None:
    assert _error_field(symbol="X", side="buy", quantity=1, stop_loss=10, take_profit=9) == (
        "stop_loss"
    )


def test_stop_order_bracket_is_measured_from_the_stop_price() -> None:
    fields = {"symbol": "X", "side": "buy", "quantity": 1, "order_type": "stop",
              "stop_price": 100}
    assert _error_field(**fields, stop_loss=100.5) == "stop_loss"


def test_unknown_fields_are_refused() -> None:
    assert _error_field(symbol="X", side="buy", quantity=1, quantiy=2) == "quantiy"


def test_describe_says_what_the_order_asks() -> None:
    assert Order(symbol="BTCUSDT", side="buy", quantity=0.1).describe() == "buy 0.1 BTCUSDT"
    assert Order(symbol="ES1!", action="close").describe("ES 12-25") == "close ES 12-25"
    reverse = Order(symbol="BTCUSDT.P", action="reverse", side="sell", quantity=2)
    assert reverse.describe("BTC/USDT:USDT", on="okx") == "reverse sell 2 BTC/USDT:USDT on okx"


def test_describe_writes_quantities_as_people_do() -> None:
    assert Order(symbol="X", side="buy", quantity=0.00001).describe() == "buy 0.00001 X"
    assert Order(symbol="X", side="buy", quantity=5.0).describe() == "buy 5 X"


LADDER = [{"price": 110, "share": 0.5}, {"price": 120, "share": 0.5}]


def test_exits_round_trip_with_their_levels() -> None:
    order = Order.model_validate({
        "symbol": "X", "side": "buy", "quantity": 2, "order_type": "limit", "price": 100,
        "exits": {"trailing_stop": {"percent": 1.5, "trigger": 5}, "take_profits": LADDER,
                  "break_even": {"after_take_profit": True, "offset": 0.5}}})
    assert order.exits is not None and [level.share for level in order.exits.take_profits] == [
        0.5, 0.5]
    assert Order.model_validate_json(order.model_dump_json()) == order


@pytest.mark.parametrize(("exits", "field"), [
    ({}, "exits"),
    ({"trailing_stop": {}}, "exits.trailing_stop"),
    ({"trailing_stop": {"amount": 1, "percent": 1}}, "exits.trailing_stop"),
    ({"break_even": {"offset": 1}}, "exits.break_even"),
    ({"break_even": {"after_take_profit": True}}, "exits.break_even"),
    ({"take_profits": [{"price": 110, "share": 0.7}, {"price": 120, "share": 0.5}]},
     "exits.take_profits"),
    ({"take_profits": [{"price": 90, "share": 0.5}]}, "exits.take_profits"),
])
def test_exits_that_cannot_be_right_name_their_field(exits: dict[str, object], field: str) -> None:
    fields = {"symbol": "X", "side": "buy", "quantity": 1, "order_type": "limit", "price": 100}
    assert _error_field(**fields, exits=exits) == field


def test_exits_go_only_with_an_entry_and_exclude_a_single_take_profit() -> None:
    assert _error_field(symbol="X", action="close", exits={"take_profits": LADDER}) == "exits"
    assert _error_field(symbol="X", side="buy", quantity=1, take_profit=130,
                        exits={"take_profits": LADDER}) == "exits.take_profits"
