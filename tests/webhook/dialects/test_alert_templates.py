"""Every message the alert builder writes, filled in as TradingView fills it, goes through the
real parser and becomes the very order the builder says it stands for."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from plugins.orders import OrderAction
from webhook.dialects import DIALECTS, parse_alert
from webhook.dialects.alert_templates import (
    ACTIONS,
    PASSPHRASE_STAND_IN,
    AlertSamples,
    AlertTemplate,
    BuilderAction,
    UnknownChoice,
    alert_template,
    filled_message,
)

EVERY_CHOICE = [(dialect, action) for dialect in ACTIONS for action in ACTIONS[dialect]]
SAMPLES = AlertSamples()


def as_tradingview_sends_it(template: AlertTemplate, samples: AlertSamples) -> tuple[bytes, str]:
    """TradingView's substitution, written here apart from the builder's own: each `{{name}}`
    becomes its value as text; times are `yyyy-MM-ddTHH:mm:ssZ` in UTC; the body goes as
    `application/json` when it then parses as JSON, else `text/plain` ("How to use a variable
    value in alert", tradingview.com/support/solutions/43000531021, and "About webhooks",
    tradingview.com/support/solutions/43000529348). Its docs do not say how numbers are
    written; the fake writes them as Pine's `str.tostring` does, without a trailing `.0`."""
    values = {
        "ticker": samples.ticker,
        "close": _number(samples.close),
        "timenow": samples.timenow.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "strategy.order.action": samples.order_action,
        "strategy.order.contracts": _number(samples.order_contracts),
        "strategy.order.price": _number(samples.order_price),
        "strategy.order.id": samples.order_id,
        "strategy.market_position": samples.market_position,
        "strategy.prev_market_position": samples.prev_market_position,
        "strategy.market_position_size": _number(samples.market_position_size),
    }
    text = re.sub(r"\{\{([a-z_.]+)\}\}", lambda m: values[m.group(1)], template.message)
    try:
        json.loads(text)
    except ValueError:
        return text.encode(), "text/plain"
    return text.encode(), "application/json"


def _number(value: float) -> str:
    text = format(Decimal(repr(value)), "f")
    return text.removesuffix(".0") if "." in text else text


@pytest.mark.parametrize(("dialect", "action"), EVERY_CHOICE)
@pytest.mark.parametrize("detected", [True, False], ids=["auto", "fixed"])
def test_the_filled_message_parses_back_to_the_order_shown(
    dialect: str, action: str, detected: bool
) -> None:
    template = alert_template(dialect, action, quantity=2.5)
    body, content_type = as_tradingview_sends_it(template, SAMPLES)
    parsed = parse_alert(body, "auto" if detected else dialect)
    assert parsed.dialect == dialect
    assert parsed.order == template.order_for(SAMPLES)
    assert content_type == template.content_type


@pytest.mark.parametrize(("dialect", "action"), EVERY_CHOICE)
def test_the_passphrase_goes_where_the_dialect_reads_it(dialect: str, action: str) -> None:
    template = alert_template(dialect, action, passphrase=True)
    body, _ = as_tradingview_sends_it(template, SAMPLES)
    parsed = parse_alert(body)
    assert parsed.passphrase == PASSPHRASE_STAND_IN
    assert parsed.order == template.order_for(SAMPLES)


@pytest.mark.parametrize(("dialect", "passphrase"), [
    ("tradingview", 's3cr"et\\pass'), ("traderspost", 's3cr"et\\pass'),
    ("native", "s3cr\u00e9t pass"), ("pineconnector", "s3cret-pass!"), ("plain", "s3cret-pass!"),
])
def test_a_test_send_writes_the_real_passphrase_in(dialect: str, passphrase: str) -> None:
    template = alert_template(dialect, "buy", passphrase=True)
    body = filled_message(template, SAMPLES, passphrase=passphrase)
    parsed = parse_alert(body.encode())
    assert parsed.passphrase == passphrase and PASSPHRASE_STAND_IN not in body


STRATEGY_MOMENTS = {
    "entry": ({"order_action": "buy", "market_position": "long"}, OrderAction.OPEN),
    "exit to flat": ({"order_action": "sell", "market_position": "flat",
                      "market_position_size": 0}, OrderAction.CLOSE),
    "partial exit": ({"order_action": "sell", "market_position": "long"}, OrderAction.CLOSE),
    "reversal": ({"order_action": "sell", "market_position": "short",
                  "prev_market_position": "long", "market_position_size": 0.75},
                 OrderAction.REVERSE),
}


@pytest.mark.parametrize("moment", STRATEGY_MOMENTS)
def test_the_strategy_alert_follows_what_the_strategy_did(moment: str) -> None:
    values, meant = STRATEGY_MOMENTS[moment]
    samples = SAMPLES.model_copy(update=values)
    template = alert_template("tradingview", "strategy")
    body, _ = as_tradingview_sends_it(template, samples)
    expected = template.order_for(samples)
    assert expected.action is meant
    assert parse_alert(body).order == expected


PRICES = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**6), places=6,
                     allow_nan=False, allow_infinity=False).map(float)


@settings(max_examples=150, deadline=None)
@given(
    choice=st.sampled_from(EVERY_CHOICE),
    quantity=PRICES,
    ticker=st.from_regex(r"\A[A-Z][A-Z0-9_!.:/]{0,20}\Z"),
    close=PRICES,
    when=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1)),
)
@example(choice=("plain", "buy_limit"), quantity=1.0, ticker="ID", close=5.0,
         when=datetime(2026, 1, 1))  # a ticker spelled like the plain dialect's `id`
def test_any_values_tradingview_puts_in_round_trip(
    choice: tuple[str, str], quantity: float, ticker: str, close: float, when: datetime
) -> None:
    samples = AlertSamples(ticker=ticker, close=close, timenow=when.replace(tzinfo=UTC,
                                                                           microsecond=0))
    template = alert_template(*choice, quantity=quantity)
    body, _ = as_tradingview_sends_it(template, samples)
    assert parse_alert(body).order == template.order_for(samples)


def test_every_dialect_tradehook_parses_has_templates() -> None:
    assert set(ACTIONS) == set(DIALECTS)
    assert all(ACTIONS[d] for d in DIALECTS)


def test_the_strategy_template_uses_tradingview_strategy_placeholders() -> None:
    template = alert_template("tradingview", "strategy")
    assert {"ticker", "strategy.order.action", "strategy.order.contracts",
            "strategy.market_position", "timenow"} <= set(template.placeholders)
    assert template.quantity is None


@pytest.mark.parametrize(("dialect", "action", "field"), [
    ("metatrader", "buy", "dialect"),
    ("pineconnector", "reverse_long", "action"),
    ("tradingview", "cancel", "action"),
    ("plain", "nothing", "action"),
])
def test_a_choice_without_a_template_is_refused_with_what_exists(
    dialect: str, action: str, field: str
) -> None:
    with pytest.raises(UnknownChoice) as caught:
        alert_template(dialect, action)
    assert caught.value.field == field
    assert ("buy" in str(caught.value)) if field == "action" else "native" in str(caught.value)


def test_every_action_has_a_label() -> None:
    assert all(isinstance(action, BuilderAction) for actions in ACTIONS.values()
               for action in actions)
