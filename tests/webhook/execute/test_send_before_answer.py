"""A signal that can be sent at once leaves for the broker before its answer is written, and
before its log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings
from webhook.decide import pipeline as signal_pipeline
from webhook.observe.events import SignalEvent

SECRET = WebhookSecret.generate()


@contextmanager
def paper_service(tmp_path: Path) -> Iterator[tuple[TestClient, Any, MockPlugin]]:
    """A client, the app's services and its paper plugin (no delay)."""
    config: dict[str, Any] = {
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}},
    }
    with TestClient(create_app(Settings.model_validate(config))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        paper = services.registry.get("paper")
        assert isinstance(paper, MockPlugin)
        yield client, services, paper


def post_three(client: TestClient) -> None:
    for n in range(3):
        raw = f'{{"symbol": "SYM{n}", "side": "buy", "quantity": 1, "confidence": 0.9}}'.encode()
        answer = client.post("/webhook", content=raw, headers={
            **signature_headers(SECRET, raw), "content-type": "application/json"})
        assert answer.status_code == 202, answer.text


def test_the_order_reaches_the_plugin_before_the_signal_is_answered(tmp_path: Path) -> None:
    with paper_service(tmp_path) as (client, services, paper):
        sent_when_decided: dict[str, bool] = {}

        def decided(event: SignalEvent) -> None:
            # Published as `receive` returns, with no await between it and the answer.
            if event.kind == "decided":
                sent_when_decided[event.signal_id] = event.signal_id in paper.received

        services.events.listen(decided)
        post_three(client)
    assert list(sent_when_decided.values()) == [True, True, True]


def test_the_signals_log_line_is_written_after_its_order_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A log line costs the event loop tens of microseconds: written before the send, it was
    # part of every order's delay to the broker.
    pipeline = logging.getLogger("tradehook.pipeline")
    with paper_service(tmp_path) as (client, _, paper):
        sent_when_logged: dict[str, bool] = {}

        class Watch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if " via " in record.getMessage() and isinstance(record.args, tuple):
                    signal_id = str(record.args[0])
                    sent_when_logged[signal_id] = signal_id in paper.received

        watch = Watch()
        pipeline.addHandler(watch)
        try:
            with caplog.at_level(logging.INFO, logger="tradehook.pipeline"):
                post_three(client)
        finally:
            pipeline.removeHandler(watch)
    assert list(sent_when_logged.values()) == [True, True, True]


def test_a_signal_waiting_behind_its_lane_is_answered_without_a_loop_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The turn lets an order that was just launched leave before the answer; one that waits
    # behind its lane's running order has nothing to send yet, and its answer should not wait.
    turns: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float) -> None:
        turns.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(signal_pipeline, "asyncio", SimpleNamespace(sleep=sleep))
    config: dict[str, Any] = {
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 300}},  # the first stays at the broker
    }
    raw = b'{"symbol": "ES", "side": "buy", "quantity": 1, "confidence": 0.9}'
    with TestClient(create_app(Settings.model_validate(config))) as client:
        for _ in range(2):  # the second is stored while the first is at the broker
            answer = client.post("/webhook", content=raw, headers={
                **signature_headers(SECRET, raw), "content-type": "application/json"})
            assert answer.status_code == 202, answer.text
            assert turns == [0]  # the first's, only
