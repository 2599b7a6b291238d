"""PineConnector text: every command, the parameters, and what is refused."""

from __future__ import annotations

import pytest

from plugins.orders import OrderAction, OrderSide, OrderType
from webhook.decide.quantities import PendingEntry, PriceOffset, QuantityUnit
from webhook.dialects import ParsedSignal, parse_alert
from webhook.dialects.pineconnector_targets import PineConnectorSettings
from webhook.errors import PayloadError

LICENSE = "60123456789"


def parse(text: str, **options: float) -> ParsedSignal:
    parsed = parse_alert(f"{LICENSE},{text}".encode(), **options)  # type: ignore[arg-type]
    assert parsed.dialect == "pineconnector"
    return parsed


def refused(text: str) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize(
    ("command", "action", "side", "order_type"),
    [
        ("buy", "open", "buy", "market"),
        ("sell", "open", "sell", "market"),
        ("long", "open", "buy", "market"),
        ("bearish", "open", "sell", "market"),
        ("buylimit", "open", "buy", "limit"),
        ("selllimit", "open", "sell", "limit"),
        ("buystop", "open", "buy", "stop"),
        ("sellstop", "open", "sell", "stop"),
    ],
)
def test_entry_commands(command: str, action: str, side: str, order_type: str) -> None:
    order = parse(f"{command},EURUSD,risk=0.5,price=1.08").order
    assert (order.action, order.side, order.order_type, order.quantity) == (
        OrderAction(action), OrderSide(side), OrderType(order_type), 0.5
    )
    price = order.stop_price if order_type == "stop" else order.price
    assert price == 1.08


@pytest.mark.parametrize(
    ("command", "action", "side"),
    [
        ("closelong", "close", "sell"),
        ("closeshort", "close", "buy"),
        ("closeall", "close", None),
        ("cancellong", "cancel", "buy"),
        ("cancelshort", "cancel", "sell"),
    ],
)
def test_exit_commands(command: str, action: str, side: str | None) -> None:
    order = parse(f"{command},EURUSD").order
    assert (order.action, order.side, order.quantity) == (
        OrderAction(action), None if side is None else OrderSide(side), None
    )


def test_spaces_around_commas_and_upper_case_commands_are_fine() -> None:
    order = parse(" BUY , EURUSD , risk=1 , sl=1.07 ").order
    assert (order.side, order.quantity, order.stop_loss) == (OrderSide.BUY, 1, 1.07)


def test_quoted_comment_may_hold_commas() -> None:
    order = parse('buy,EURUSD,risk=1,comment="dip, then rip"').order
    assert order.comment == "dip, then rip"


def test_risk_is_read_in_the_sources_unit_vol_lots_in_lots_vol_dollar_as_risk() -> None:
    assert parse("buy,EURUSD,risk=2").quantity_unit is None
    assert parse("buy,EURUSD,vol_lots=0.2").quantity_unit is QuantityUnit.UNITS
    parsed = parse("sell,GBPJPY,vol_dollar=50,sl_pips=20")  # PineConnector's own example
    assert (parsed.order.quantity, parsed.quantity_unit) == (50, QuantityUnit.RISK_AMOUNT)


def test_risk_and_vol_lots_together_are_refused() -> None:
    assert refused("buy,EURUSD,risk=1,vol_lots=1").field == "vol_lots"


def test_entry_without_a_size_is_refused_naming_risk() -> None:
    assert refused("buy,EURUSD,sl=1.07").field == "risk"


def test_entry_without_a_size_takes_the_sources_default() -> None:
    parsed = parse("buy,EURUSD", default_quantity=0.3)
    assert (parsed.order.quantity, parsed.default_quantity) == (0.3, True)


def test_percent_targets_are_measured_from_the_entry() -> None:
    order = parse("buylimit,XAUUSD,vol_lots=1,price=2000,sl_pct=1,tp_pct=2.5").order
    assert (order.stop_loss, order.take_profit) == (1980, 2050)


def test_percent_targets_of_a_market_order_wait_for_the_plugin_price() -> None:
    parsed = parse("sell,EURUSD,risk=1,sl_pct=1")
    assert parsed.order.stop_loss is None
    assert parsed.bracket is not None and parsed.bracket.stop_loss is not None


def test_secret_is_the_passphrase() -> None:
    assert parse("buy,EURUSD,risk=1,secret=HappyTrader501").passphrase == "HappyTrader501"


def test_stop_loss_on_the_wrong_side_names_sl() -> None:
    assert refused("buy,EURUSD,risk=1,price=1.08,sl=1.09").field == "sl"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("newsltplong,EURUSD,sl=1.07", "command"),
        ("fly,EURUSD,risk=1", "command"),
        ("buy,EURUSD,risk=1,atrperiod=14", "atrperiod"),
        ("buy,EURUSD,risk=1,vol_dollar=50,sl_pips=20", "vol_dollar"),
        ("buy,EURUSD,vol_lots=1,vol_dollar=50,sl_pips=20", "vol_dollar"),
        ("buy,EURUSD,risk=1,sl=20,sl_pips=20", "sl_pips"),
        ("buy,EURUSD,risk=lots", "risk"),
        ("buy,EURUSD,risk=1,risk=2", "risk"),
        ("buy,EURUSD,risk=1,sl", "body"),
        ("buy,EURUSD,risk=1,=2", "body"),
        ("buy,EURUSD,risk=", "risk"),
        ("buy,EURUSD,risk=-1", "risk"),
        ("buylimit,EURUSD,risk=1", "price"),
    ],
)
def test_unusable_alert_names_the_part(text: str, field: str) -> None:
    assert refused(text).field == field


def test_missing_symbol_is_refused() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(f"{LICENSE},buy,".encode())
    assert caught.value.field == "body"


def test_plain_text_with_commas_later_is_not_taken_for_pineconnector() -> None:
    parsed = parse_alert(b"buy 1 BTCUSDT comment first, second")
    assert parsed.dialect == "plain"


def parse_as(text: str, **settings: str) -> ParsedSignal:
    reading = PineConnectorSettings.model_validate(settings)
    parsed = parse_alert(f"{LICENSE},{text}".encode(), pineconnector=reading)
    assert parsed.dialect == "pineconnector"
    return parsed


def test_by_default_sl_and_tp_are_prices() -> None:
    parsed = parse_as("sell,GBPJPY,sl=50,risk=1")
    assert (parsed.order.stop_loss, parsed.bracket) == (50, None)
    assert parsed.price_fields["stop_loss"] == "sl"


def test_target_type_pips_reads_sl_and_tp_as_pips_from_the_entry() -> None:
    parsed = parse_as("sell,GBPJPY,sl=50,tp=100,risk=1", target_type="pips")
    assert parsed.order.stop_loss is None and parsed.bracket is not None
    assert parsed.bracket.stop_loss == PriceOffset(field="sl", pips=50)
    assert parsed.bracket.take_profit == PriceOffset(field="tp", pips=100)


def test_target_type_percent_reads_sl_as_percent_from_a_limit_entry() -> None:
    order = parse_as("buylimit,XAUUSD,vol_lots=1,price=2000,sl=1", target_type="percent").order
    assert order.stop_loss == 1980


@pytest.mark.parametrize("target_type", ["pips", "price", "percent"])
def test_explicit_parameters_say_their_unit_whatever_the_setting(target_type: str) -> None:
    parsed = parse_as("buy,EURUSD,vol_lots=1,sl_pips=20,tp_price=1.2", target_type=target_type)
    assert parsed.bracket is not None
    assert parsed.bracket.stop_loss == PriceOffset(field="sl_pips", pips=20)
    assert parsed.order.take_profit == 1.2


def test_pending_entry_in_pips_waits_for_the_market_as_a_market_order() -> None:
    parsed = parse_as("buystop,EURUSD,risk=1,price=15,sl=10", pending_entry="pips",
                      target_type="pips")
    assert parsed.order.order_type is OrderType.MARKET
    assert parsed.pending_entry == PendingEntry(
        order_type=OrderType.STOP, offset=PriceOffset(field="price", pips=15))


def test_price_of_a_market_order_read_as_a_distance_is_refused() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_as("buy,EURUSD,risk=1,price=15", pending_entry="pips")
    assert caught.value.field == "price"


@pytest.mark.parametrize(
    ("parameter", "says"),
    [("atrmultiplier=2", "ATR trailing stop"), ("spread=3", "spread filter"),
     ("accfilter=500", "account filter")],
)
def test_known_features_tradehook_lacks_are_refused_with_the_reason(
    parameter: str, says: str
) -> None:
    error = refused(f"sell,GBPJPY,risk=1,{parameter}")
    assert error.field == parameter.split("=")[0]
    assert says in str(error)
