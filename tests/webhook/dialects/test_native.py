from __future__ import annotations

import json

import pytest

from webhook.dialects import parse_alert
from webhook.errors import PayloadError


def parse(payload: object) -> object:
    return parse_alert(json.dumps(payload).encode())


def field_of(payload: object) -> str:
    with pytest.raises(PayloadError) as caught:
        parse_alert(json.dumps(payload).encode() if not isinstance(payload, bytes) else payload)
    return caught.value.field


BASE = {"symbol": "BTC/USDT", "side": "buy", "quantity": 0.1}


def test_native_order_with_routing_and_identity() -> None:
    signal = parse_alert(json.dumps({**BASE, "plugin": "paper", "id": "agent-7",
                                     "comment": "momentum"}).encode())
    assert signal.dialect == "native"
    assert signal.plugin == "paper"
    assert signal.idempotency_key == "agent-7"
    assert signal.order.comment == "momentum"


def test_values_are_case_insensitive() -> None:
    signal = parse_alert(json.dumps({**BASE, "side": "BUY", "order_type": "Market"}).encode())
    assert signal.order.side == "buy"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": -1}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"confidence": 7}, "confidence"),
        ({"side": "up"}, "side"),
        ({"order_type": "limit"}, "price"),
        ({"order_type": "iceberg"}, "order_type"),
        ({"action": "hold"}, "action"),
        ({"price": 100, "stop_loss": 101}, "stop_loss"),
        ({"symbol": ""}, "symbol"),
        ({"plugin": ""}, "plugin"),
        ({"plugin": ["a"]}, "plugin"),
        ({"symbol": "{{ticker}}"}, "symbol"),
    ],
)
def test_bad_field_is_named(change: dict[str, object], field: str) -> None:
    assert field_of({**BASE, **change}) == field


def test_missing_symbol_falls_back_to_tradingview_rules_and_names_ticker() -> None:
    assert field_of({"side": "buy", "quantity": 1}) == "ticker"


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"{", b'{"symbol": }', b"[1, 2]", b'"text"', b"\xff\xfe\x00",
     b"[" * 100_000],
)
def test_unusable_bodies_are_a_payload_error_on_the_body(body: bytes) -> None:
    assert field_of(body) == "body"
