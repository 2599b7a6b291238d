from __future__ import annotations

import json

import pytest

from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import PayloadError


def parse(**payload: object) -> ParsedSignal:
    return parse_alert(json.dumps(payload).encode())


def field_of(**payload: object) -> str:
    with pytest.raises(PayloadError) as caught:
        parse(**payload)
    return caught.value.field


def test_numbers_arrive_as_strings() -> None:
    order = parse(ticker="ES1!", action="buy", contracts="2", price="5012.25", sl="4995",
                  tp="5040").order
    assert (order.quantity, order.price, order.stop_loss, order.take_profit) == (
        2, 5012.25, 4995, 5040
    )


@pytest.mark.parametrize("quantity_key", ["contracts", "quantity", "qty"])
def test_quantity_aliases(quantity_key: str) -> None:
    assert parse(ticker="X", action="sell", **{quantity_key: "3"}).order.quantity == 3


def test_symbol_and_side_aliases() -> None:
    order = parse(symbol="EURUSD", side="short", quantity=1).order
    assert (order.symbol, order.side) == ("EURUSD", "sell")


def test_flat_market_position_closes_the_whole_position() -> None:
    order = parse(ticker="BTCUSDT", action="sell", contracts="0.015", market_position="flat").order
    assert order.action == "close"
    assert order.quantity is None
    assert order.side == "sell"


def test_close_word_in_action_closes() -> None:
    assert parse(ticker="BTCUSDT", action="exit").order.action == "close"


def test_id_is_the_idempotency_key() -> None:
    assert parse(ticker="X", action="buy", contracts=1, id="a1").idempotency_key == "a1"


def test_order_id_with_time_is_the_idempotency_key() -> None:
    signal = parse(ticker="X", action="buy", contracts=1, order_id="Long", time="2026-11-20T14:00")
    assert signal.idempotency_key == "Long@2026-11-20T14:00"
    assert parse(ticker="X", action="buy", contracts=1, order_id="Long").idempotency_key is None


def test_plugin_and_confidence_are_read() -> None:
    signal = parse(ticker="X", action="buy", contracts=1, plugin="paper", confidence="0.9")
    assert signal.plugin == "paper"
    assert signal.order.confidence == 0.9


def test_unrelated_fields_are_ignored() -> None:
    assert parse(ticker="X", action="buy", contracts=1, note="for me").order.symbol == "X"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ticker": "{{ticker}}", "action": "buy", "contracts": 1}, "ticker"),
        ({"ticker": "X", "action": "{{strategy.order.action}}", "contracts": 1}, "action"),
        ({"ticker": "X", "action": "buy", "contracts": "{{strategy.order.contracts}}"},
         "contracts"),
        ({"ticker": "X", "action": "hold", "contracts": 1}, "action"),
        ({"ticker": "X", "action": "buy", "contracts": "two"}, "contracts"),
        ({"ticker": "X", "action": "buy", "contracts": "NaN"}, "contracts"),
        ({"ticker": "X", "action": "buy", "contracts": True}, "contracts"),
        ({"ticker": "X", "action": "buy"}, "quantity"),
        ({"ticker": "X", "action": "buy", "contracts": 1, "position": "sideways"}, "position"),
        ({"action": "buy", "contracts": 1}, "ticker"),
        ({"ticker": "X", "action": "buy", "contracts": 1, "price": "100", "sl": "101"}, "sl"),
        ({"ticker": "X", "action": "buy", "contracts": 1, "confidence": "7"}, "confidence"),
    ],
)
def test_bad_field_is_named_as_the_alert_wrote_it(payload: dict[str, object], field: str) -> None:
    assert field_of(**payload) == field


def test_unfilled_placeholder_error_says_so() -> None:
    with pytest.raises(PayloadError, match=r"did not fill in the placeholder \{\{ticker\}\}"):
        parse(ticker="{{ticker}}", action="buy", contracts=1)
