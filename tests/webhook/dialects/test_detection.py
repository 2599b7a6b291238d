"""Which dialect a body is read in, and the answer when it fits none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webhook.dialects import parse_alert
from webhook.errors import PayloadError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "alerts"
PARSABLE = sorted(
    name
    for name, spec in json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8")).items()
    if not name.startswith("_") and "invalid" not in spec
)


@pytest.mark.parametrize("name", PARSABLE)
def test_each_fixture_is_detected_as_the_dialect_it_was_written_for(name: str) -> None:
    assert parse_alert((FIXTURES / name).read_bytes()).dialect == name.split("_")[0]


def test_traderspost_bracket_keeps_its_limit_price_and_bracket() -> None:
    order = parse_alert((FIXTURES / "traderspost_buy_bracket.json").read_bytes()).order
    assert (order.price, order.stop_loss, order.take_profit) == (191.25, 181.6875, 210.375)


def test_json_that_fits_no_dialect_says_which_were_tried() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(b'{"coin": "BTC", "go": "up"}')
    error = caught.value
    assert error.field == "body"
    for dialect in ("native", "traderspost", "tradingview"):
        assert dialect in error.problem
    assert "coin, go" in error.problem


def test_text_that_fits_no_dialect_says_which_were_tried() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(b"moon BTC now")
    assert caught.value.field == "body"
    assert "pineconnector" in caught.value.problem and "plain" in caught.value.problem


def test_text_with_a_placeholder_left_says_so() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(b"{{strategy.order.action}} 1 BTCUSDT")
    assert "placeholder" in caught.value.problem


@pytest.mark.parametrize(
    ("body", "dialect"),
    [
        (b'{"ticker": "NQ", "action": "buy", "contracts": "1"}', "tradingview"),
        (b'{"ticker": "NQ", "action": "buy", "quantity": 1, "sentiment": "long"}', "traderspost"),
        (b'{"ticker": "NQ", "action": "exit"}', "traderspost"),
        (b'{"ticker": "NQ", "action": "add", "sentiment": "long", "quantity": 1}', "traderspost"),
        (b'{"symbol": "NQ", "side": "buy", "quantity": 1}', "native"),
        (b"1,buy,NQ,risk=1", "pineconnector"),
        (b"buy 1 NQ", "plain"),
    ],
)
def test_detection(body: bytes, dialect: str) -> None:
    assert parse_alert(body).dialect == dialect


@pytest.mark.parametrize(
    ("body", "field"),
    [(b'{"ticker": "SPY", "action": "breakeven"}', "action"),
     (b'{"ticker": "SPY", "action": "sell", "trailAmount": 2}', "trailAmount"),
     (b'{"ticker": "SPY", "action": "sell", "trailPercent": 1}', "trailPercent")],
)
def test_traderspost_only_trailing_and_breakeven_fields_get_its_reasons(
    body: bytes, field: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(body)
    assert caught.value.field == field
    assert "tradehook" in caught.value.problem


def test_a_source_can_fix_the_dialect() -> None:
    body = b'{"ticker": "NQ", "action": "buy", "quantity": 1}'
    assert parse_alert(body).dialect == "tradingview"
    assert parse_alert(body, "traderspost").dialect == "traderspost"
    with pytest.raises(PayloadError):
        parse_alert(b"buy 1 NQ", "pineconnector")


@pytest.mark.parametrize(("body", "field", "problem"), [
    (b'{"symbol": "X", "side": "buy", "quantity": NaN}', "quantity", "finite number"),
    (b'{"symbol": "X", "side": "buy", "quantity": 1', "body",
     "malformed JSON at line 1 column 45: Expecting ',' delimiter"),
    (b'{"symbol": "\\ud800", "side": "buy", "quantity": 1}', "symbol", "valid string"),
    (b"[" * 5000, "body", "JSON nested too deeply"),
], ids=["NaN", "malformed", "lone surrogate", "deep"])
def test_json_that_orjson_refuses_is_answered_as_json_reads_it(
    body: bytes, field: str, problem: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert(body)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_an_integer_over_64_bits_is_read_as_json_reads_it() -> None:
    body = b'{"symbol": "X", "side": "buy", "quantity": 100000000000000000000000}'
    assert parse_alert(body).order.quantity == 1e23
