"""An order's consistency is checked once on its way from the body to the journal."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from plugins.orders import Order
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings
from webhook.dialects import ParsedSignal

SECRET = WebhookSecret.generate()


def test_a_received_signal_checks_its_order_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.model_validate({
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}},
        "execution": {"enabled": False},
    })
    checks = 0
    check = Order._check_consistency

    def counted(order: Order) -> Order:
        nonlocal checks
        checks += 1
        return check(order)

    monkeypatch.setattr(Order, "_check_consistency", counted)
    body = b'{"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01, "confidence": 0.8}'
    with TestClient(create_app(settings)) as client:
        answer = client.post("/webhook", content=body, headers={
            **signature_headers(SECRET, body), "content-type": "application/json"})
    assert answer.status_code == 202, answer.text
    assert checks == 1


def test_an_order_held_by_another_model_is_taken_as_it_was_built() -> None:
    order = Order(symbol="BTCUSDT", side="buy", quantity=1)
    parsed = ParsedSignal(order=order, dialect="native")
    assert parsed.order is order
    assert ParsedSignal.model_validate({"order": order.model_dump(), "dialect": "native"}
                                       ).order == order


def test_an_order_built_from_data_is_still_checked() -> None:
    with pytest.raises(ValueError, match="quantity is required"):
        ParsedSignal.model_validate({"order": {"symbol": "X", "side": "buy"}, "dialect": "native"})
