"""`exits` in native JSON and in TradingView placeholder JSON, as the order model has them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plugins.orders import BreakEven, ManagedExits, OrderAction, TakeProfitLevel, TrailingStop
from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import PayloadError

LADDER = [{"price": 70_000, "share": 0.5}, {"price": 72_000, "share": 0.3},
          {"price": 75_000, "share": 0.2}]
NATIVE = {"symbol": "BTC/USDT", "side": "buy", "quantity": 0.1, "price": 67_500,
          "order_type": "limit",
          "exits": {"trailing_stop": {"percent": 1.5, "trigger": 500},
                    "break_even": {"after_take_profit": True, "offset": 10},
                    "take_profits": LADDER}}
TRADINGVIEW = {"ticker": "BTCUSDT", "action": "buy", "contracts": "0.015", "price": "67012.5",
               "position": "long",
               "exits": {"trailing_stop": {"amount": "150"},
                         "break_even": {"trigger": "300", "offset": "5"}}}


def parse(payload: dict[str, Any]) -> ParsedSignal:
    return parse_alert(json.dumps(payload).encode())


def refused(payload: dict[str, Any]) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse(payload)
    return caught.value


def test_native_exits_are_the_order_models() -> None:
    parsed = parse(NATIVE)
    assert parsed.dialect == "native"
    assert parsed.order.exits == ManagedExits(
        trailing_stop=TrailingStop(percent=1.5, trigger=500),
        break_even=BreakEven(after_take_profit=True, offset=10),
        take_profits=tuple(TakeProfitLevel(**level) for level in LADDER),
    )


def test_native_ladder_below_the_entry_of_a_buy_names_take_profits() -> None:
    ladder = [{"price": 60_000, "share": 0.5}]
    assert refused({**NATIVE, "exits": {"take_profits": ladder}}).field == "exits.take_profits"


def test_native_trailing_stop_with_amount_and_percent_names_it() -> None:
    both = {"trailing_stop": {"amount": 100, "percent": 1}}
    assert refused({**NATIVE, "exits": both}).field == "exits.trailing_stop"


def test_native_unknown_exit_field_is_refused_by_its_path() -> None:
    error = refused({**NATIVE, "exits": {"trailing_stop": {"amount": 100, "distance": 5}}})
    assert error.field == "exits.trailing_stop.distance"


def test_native_exits_on_a_close_are_refused() -> None:
    close = {"symbol": "BTC/USDT", "action": "close", "exits": {"take_profits": LADDER}}
    assert refused(close).field == "exits"


def test_tradingview_exits_arrive_as_strings() -> None:
    parsed = parse(TRADINGVIEW)
    assert parsed.dialect == "tradingview"
    assert parsed.order.exits == ManagedExits(trailing_stop=TrailingStop(amount=150),
                                              break_even=BreakEven(trigger=300, offset=5))


def test_tradingview_exits_are_dropped_from_the_strategys_exit_orders() -> None:
    parsed = parse({**TRADINGVIEW, "action": "sell", "position": "flat"})
    assert (parsed.order.action, parsed.order.exits) == (OrderAction.CLOSE, None)


def test_tradingview_unfilled_placeholder_in_exits_names_its_path() -> None:
    error = refused({**TRADINGVIEW, "exits": {"trailing_stop": {"amount": "{{plot_0}}"}}})
    assert error.field == "exits.trailing_stop.amount"
    assert "placeholder" in str(error)


@pytest.mark.parametrize("payload", [NATIVE, TRADINGVIEW])
def test_exits_that_are_not_an_object_are_refused(payload: dict[str, Any]) -> None:
    assert refused({**payload, "exits": "trail 1%"}).field == "exits"
