"""A signal that can be sent at once leaves for the broker before its answer is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings
from webhook.observe.events import SignalEvent

SECRET = WebhookSecret.generate()


def test_the_order_reaches_the_plugin_before_the_signal_is_answered(tmp_path: Path) -> None:
    config: dict[str, Any] = {
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}},
    }
    with TestClient(create_app(Settings.model_validate(config))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        paper = services.registry.get("paper")
        assert isinstance(paper, MockPlugin)
        sent_when_decided: dict[str, bool] = {}

        def decided(event: SignalEvent) -> None:
            # Published as `receive` returns, with no await between it and the answer.
            if event.kind == "decided":
                sent_when_decided[event.signal_id] = event.signal_id in paper.received

        services.events.listen(decided)
        for n in range(3):
            body = f'{{"symbol": "SYM{n}", "side": "buy", "quantity": 1, "confidence": 0.9}}'
            raw = body.encode()
            answer = client.post("/webhook", content=raw, headers={
                **signature_headers(SECRET, raw), "content-type": "application/json"})
            assert answer.status_code == 202, answer.text
    assert list(sent_when_decided.values()) == [True, True, True]
