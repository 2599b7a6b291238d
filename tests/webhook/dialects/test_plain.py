from __future__ import annotations

import pytest

from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import PayloadError


def parse(text: str) -> ParsedSignal:
    return parse_alert(text.encode())


def field_of(text: str) -> str:
    with pytest.raises(PayloadError) as caught:
        parse(text)
    return caught.value.field


def test_market_buy() -> None:
    order = parse("buy 0.1 BTC/USDT").order
    assert (order.side, order.quantity, order.symbol, order.order_type) == (
        "buy", 0.1, "BTC/USDT", "market"
    )


def test_symbol_may_come_before_the_quantity() -> None:
    assert parse("sell EURUSD 10000").order.quantity == 10000


def test_limit_with_bracket_and_confidence() -> None:
    order = parse("sell 2 ES limit 5000 sl 5010 tp 4980 confidence 0.8").order
    assert (order.order_type, order.price, order.stop_loss, order.take_profit,
            order.confidence) == ("limit", 5000, 5010, 4980, 0.8)


def test_key_equals_value_form() -> None:
    order = parse("buy 1 NQ limit=18000 sl=17900").order
    assert (order.price, order.stop_loss) == (18000, 17900)


def test_stop_and_stop_limit() -> None:
    assert parse("buy 1 NQ stop 18000").order.order_type == "stop"
    order = parse("buy 1 NQ stop 18000 limit 18010").order
    assert (order.order_type, order.stop_price, order.price) == ("stop_limit", 18000, 18010)


def test_price_alone_is_a_reference_for_a_market_order() -> None:
    order = parse("buy 1 BTCUSDT price 67000").order
    assert (order.order_type, order.price) == ("market", 67000)


def test_close_cancel_and_reverse() -> None:
    assert parse("close EURUSD").order.action == "close"
    close_long = parse("close long EURUSD 0.5").order
    assert (close_long.action, close_long.side, close_long.quantity) == ("close", "sell", 0.5)
    assert parse("cancel ES").order.action == "cancel"
    reverse = parse("reverse sell 1 BTCUSDT").order
    assert (reverse.action, reverse.side) == ("reverse", "sell")


def test_plugin_id_and_comment() -> None:
    signal = parse("buy 1 ES plugin paper id a-1 comment breakout on volume")
    assert (signal.plugin, signal.idempotency_key) == ("paper", "a-1")
    assert signal.order.comment == "breakout on volume"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("hodl 1 BTC", "body"),
        ("buy", "symbol"),
        ("buy 0.1", "symbol"),
        ("buy BTCUSDT", "quantity"),
        ("buy -1 BTCUSDT", "quantity"),
        ("buy 1 ES limit", "price"),
        ("buy 1 ES limit abc", "price"),
        ("buy 1 ES price 100 sl 101", "stop_loss"),
        ("buy 1 ES confidence 7", "confidence"),
        ("buy 1 ES colour blue", "body"),
        ("buy {{strategy.order.contracts}} ES", "body"),
        ("reverse 1 ES", "side"),
    ],
)
def test_mistakes_name_the_field(text: str, field: str) -> None:
    assert field_of(text) == field


@pytest.mark.parametrize(("text", "target"), [
    ("target 3 ES", 3.0), ("target ES -2", -2.0), ("target 0 EURUSD", 0.0),
    ("target -0.5 BTCUSDT id=abc", -0.5),
])
def test_target_asks_for_the_net_position(text: str, target: float) -> None:
    parsed = parse(text)
    assert parsed.dialect == "plain"
    assert (parsed.order.action, parsed.order.target_position) == ("target", target)
    assert parsed.order.side is None and parsed.order.quantity is None


@pytest.mark.parametrize(("text", "field"), [
    ("target ES", "target_position"), ("target 1 ES sl 4000", "stop_loss"),
])
def test_a_target_without_its_position_or_with_a_bracket_names_the_field(
    text: str, field: str
) -> None:
    assert field_of(text) == field


@pytest.mark.parametrize(("text", "symbol"), [
    ("buy 1 ID", "ID"), ("buy 1 ID limit 5", "ID"), ("buy 1 STOP limit 5", "STOP"),
    ("close long UNIT", "UNIT"), ("buy 1 SL tp 5", "SL"),
])
def test_a_symbol_spelled_like_a_keyword_is_still_the_symbol(text: str, symbol: str) -> None:
    # TradingView fills {{ticker}} with whatever the chart shows: SPACE ID trades as ID.
    assert parse(text).order.symbol == symbol


@pytest.mark.parametrize("text", ["buy 1 limit 5", "buy 1 id abc", "buy 1 passphrase x"])
def test_a_keyword_with_its_value_where_the_symbol_goes_means_no_symbol(text: str) -> None:
    assert field_of(text) == "symbol"
