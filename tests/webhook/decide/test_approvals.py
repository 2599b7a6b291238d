"""The approval queue in the running app: waiting, approving once, declining, expiring, a
restart while waiting, and the re-check at approval. What the paper plugin was asked to execute
is counted at the plugin itself."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from plugins.orders import ExecutionResult, Order
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.auth.source_urls import make_source_token
from webhook.config.loader import load_settings
from webhook.config.settings import Settings
from webhook.errors import ConfigError
from webhook.journal.listing import signal_row

SECRET = WebhookSecret.generate()
ADMIN_TOKEN = "approval-admin-token-5d1e8c3b7a"
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}
AGENT_TOKEN = "approval-agent-token-9b2f6d4e1c"


def config(journal: Path, **signed: Any) -> dict[str, Any]:
    return {
        "secret": [SECRET], "admin_token": ADMIN_TOKEN, "journal": f"sqlite:///{journal}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}},
        "sources": {"signed": {"approval": "below", "review_threshold": 0.8, **signed}},
        "agents": {"scout": {"token": AGENT_TOKEN, "scopes": ["read", "submit"],
                             "approval": "always"}},
    }


class Running:
    """The app, and every order its paper plugin was asked to execute (by client order id)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.executed: list[str] = []
        plugin = client.app.state.services.registry.get("paper")  # type: ignore[attr-defined]
        assert isinstance(plugin, MockPlugin)
        self.plugin = plugin
        real = plugin.execute_order

        async def counted(order: Order) -> ExecutionResult:
            self.executed.append(order.client_order_id or "")
            return await real(order)

        plugin.execute_order = counted  # type: ignore[method-assign]

    def send(self, confidence: float, quantity: float = 1) -> Any:
        body = json.dumps({"symbol": "ETHUSDT", "side": "buy", "quantity": quantity,
                           "confidence": confidence}).encode()
        headers = {**signature_headers(SECRET, body), "content-type": "application/json"}
        return self.client.post("/webhook", content=body, headers=headers)

    def waiting_one(self, confidence: float = 0.7, quantity: float = 1) -> str:
        answer = self.send(confidence, quantity)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "awaiting_approval"
        return str(answer.json()["signal_id"])

    def signal(self, signal_id: str) -> Any:
        return self.client.get(f"/api/signals/{signal_id}", headers=ADMIN).json()

    def approve(self, signal_id: str, headers: dict[str, str] = ADMIN) -> Any:
        return self.client.post(f"/api/signals/{signal_id}/approve", headers=headers)

    def approve_at_once(self, signal_id: str, times: int) -> list[Any]:
        """`times` approvals started together in the app's own event loop."""
        queue = self.client.app.state.services.pipeline.approvals  # type: ignore[attr-defined]

        async def together() -> list[Any]:
            return await asyncio.gather(*(queue.approve(signal_id, "test") for _ in range(times)))

        return list(self.client.portal.call(together))  # type: ignore[union-attr]

    def decline(self, signal_id: str) -> Any:
        return self.client.post(f"/api/signals/{signal_id}/decline", headers=ADMIN)

    def settled(self, signal_id: str) -> Any:
        deadline = time.monotonic() + 10  # bounded: a paper fill takes a few loop turns
        while True:
            record = self.signal(signal_id)
            if record["status"] not in ("queued", "executing") or time.monotonic() > deadline:
                return record
            time.sleep(0.02)


@pytest.fixture
def journal_file(tmp_path: Path) -> Path:
    return tmp_path / "j.db"


@pytest.fixture
def app(journal_file: Path) -> Iterator[Running]:
    with TestClient(create_app(Settings.model_validate(config(journal_file)))) as client:
        yield Running(client)


def test_below_the_review_threshold_a_signal_waits_and_is_not_executed(app: Running) -> None:
    waiting = app.waiting_one(0.7)
    assert "below sources.signed.review_threshold 0.8" in app.signal(waiting)["reason"]
    assert app.send(0.5).json()["status"] == "filtered"
    sure = app.send(0.9)
    assert sure.status_code == 202 and sure.json()["status"] == "queued"
    assert app.settled(sure.json()["signal_id"])["status"] == "filled"
    assert app.executed == [sure.json()["signal_id"]]
    listed = app.client.get("/api/approvals", headers=ADMIN).json()["approvals"]
    assert [s["id"] for s in listed] == [waiting]
    assert listed[0]["approval_deadline"] == pytest.approx(time.time() + 300, abs=30)


def test_an_approved_signal_is_executed_once_however_often_it_is_approved(
    app: Running,
) -> None:
    signal_id = app.waiting_one()
    assert sum(outcome.done for outcome in app.approve_at_once(signal_id, 5)) == 1
    again = app.approve(signal_id)  # the double click
    assert again.status_code == 409 and "not awaiting approval" in again.json()["error"]
    record = app.settled(signal_id)
    assert record["status"] == "filled" and record["approved_at"] is not None
    assert app.executed == [signal_id]
    assert app.plugin.position("ETHUSDT") == 1


def test_a_declined_signal_is_never_executed_and_cannot_be_approved_after(
    app: Running,
) -> None:
    signal_id = app.waiting_one()
    declined = app.decline(signal_id)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert app.approve(signal_id).json()["status"] == "declined"
    assert app.signal(signal_id)["reason"] == "declined by the admin API; never sent"
    sure = app.send(0.9).json()["signal_id"]
    app.settled(sure)
    assert app.executed == [sure]
    assert app.client.get("/api/approvals", headers=ADMIN).json()["approvals"] == []


def test_approval_after_the_kill_switch_was_engaged_is_refused(app: Running) -> None:
    signal_id = app.waiting_one()
    app.client.post("/api/kill-switch", json={"engaged": True}, headers=ADMIN)
    refused = app.approve(signal_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["status"] == "rejected" and refused.json()["rule"] == "kill_switch"
    app.client.post("/api/kill-switch", json={"engaged": False}, headers=ADMIN)
    assert app.approve(signal_id).json()["status"] == "rejected"
    sure = app.send(0.9).json()["signal_id"]
    app.settled(sure)
    assert app.executed == [sure]


def test_past_its_deadline_a_signal_expires_and_approving_it_is_refused(
    app: Running, journal_file: Path
) -> None:
    signal_id = app.waiting_one()
    with sqlite3.connect(journal_file) as connection:  # as if its five minutes had passed
        connection.execute("UPDATE signals SET approval_deadline = ? WHERE id = ?",
                           (time.time() - 1, signal_id))
    refused = app.approve(signal_id)
    assert refused.status_code == 409 and refused.json()["status"] == "expired"
    assert app.signal(signal_id)["reason"].startswith("expired: nobody approved it")
    assert app.executed == []
    metrics = app.client.get("/metrics").text
    assert 'tradehook_approvals_total{outcome="expired",source="signed"} 1.0' in metrics


def test_a_restart_keeps_the_queue_and_expires_what_fell_due_while_down(
    journal_file: Path,
) -> None:
    settings = Settings.model_validate(config(journal_file))
    with TestClient(create_app(settings)) as client:
        first = Running(client)
        overdue, kept = first.waiting_one(), first.waiting_one()
        deadline = first.signal(kept)["approval_deadline"]
    with sqlite3.connect(journal_file) as connection:  # it fell due while the server was down
        connection.execute("UPDATE signals SET approval_deadline = ? WHERE id = ?",
                           (time.time() - 1, overdue))
    with TestClient(create_app(settings)) as client:
        again = Running(client)
        for _ in range(500):  # bounded: the expiry runs as the server starts
            if again.signal(overdue)["status"] != "awaiting_approval":
                break
            time.sleep(0.01)
        assert again.signal(overdue)["status"] == "expired"
        still = again.signal(kept)
        assert still["status"] == "awaiting_approval" and still["approval_deadline"] == deadline
        assert again.approve(kept).status_code == 200
        assert again.settled(kept)["status"] == "filled"
        assert again.executed == [kept]


def test_the_risk_rules_of_the_moment_are_checked_again_at_approval(
    journal_file: Path,
) -> None:
    with TestClient(create_app(Settings.model_validate(config(journal_file)))) as client:
        big = Running(client).waiting_one(quantity=5)
    stricter = config(journal_file, risk={"max_quantity": 2})
    with TestClient(create_app(Settings.model_validate(stricter))) as client:
        app = Running(client)
        refused = app.approve(big)
        assert refused.status_code == 409
        assert refused.json()["status"] == "rejected"
        assert refused.json()["rule"] == "sources.signed.risk.max_quantity"
        assert app.executed == []


def test_an_agents_own_setting_holds_its_signals_and_its_token_never_approves(
    app: Running,
) -> None:
    agent = {"authorization": f"Bearer {AGENT_TOKEN}"}
    answer = app.client.post("/api/agent/signals", headers=agent, json={
        "symbol": "ETHUSDT", "side": "buy", "quantity": 1, "confidence": 0.95})
    assert answer.status_code == 202 and answer.json()["status"] == "awaiting_approval"
    signal_id = answer.json()["signal_id"]
    assert app.approve(signal_id, headers=agent).status_code == 401
    assert app.client.post(f"/api/signals/{signal_id}/approve").status_code == 401
    assert app.signal(signal_id)["status"] == "awaiting_approval"
    assert app.approve("01NOSUCHSIGNAL").status_code == 404


@pytest.mark.parametrize(("table", "message"), [
    ('approval = "below"',
     'sources.tv.review_threshold: approval = "below" needs a review_threshold'),
    ('approval = "below"\nreview_threshold = 0.5',
     "sources.tv.review_threshold: review_threshold 0.5 must be above the confidence threshold"),
    ('approval = "always"\napproval_timeout = 0', "sources.tv.approval_timeout: "),
    ('approval = "always"\napproval_timeout = 90000', "sources.tv.approval_timeout: "),
    ('approval = "sometimes"', "sources.tv.approval: "),
])
def test_wrong_approval_settings_fail_at_start_naming_the_key(
    table: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tradehook.toml"
    path.write_text(f"[sources.tv]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value).startswith(message), caught.value


def test_tradehook_signals_shows_until_when_a_signal_may_be_approved(app: Running) -> None:
    signal_id = app.waiting_one()
    journal = app.client.app.state.services.journal  # type: ignore[attr-defined]
    record = app.client.portal.call(journal.get, signal_id)  # type: ignore[union-attr]
    until = time.strftime("%H:%M:%S", time.gmtime(record.approval_deadline))
    row = signal_row(record)
    assert row[3] == "awaiting_approval" and row[6] == f"approve by {until} UTC or it expires"


def test_on_postgresql_too_approvals_at_once_give_one_order(tmp_path: Path) -> None:
    with scratch_schema() as url:
        settings = Settings.model_validate({**config(tmp_path / "unused.db"), "journal": url})
        with TestClient(create_app(settings)) as client:
            app = Running(client)
            signal_id = app.waiting_one()
            assert sum(outcome.done for outcome in app.approve_at_once(signal_id, 5)) == 1
            assert app.settled(signal_id)["status"] == "filled"
            assert app.executed == [signal_id]


def test_each_account_of_a_fanned_out_signal_is_approved_on_its_own(tmp_path: Path) -> None:
    paper = {"type": "mock", "delay_ms": 0}
    settings = Settings.model_validate({
        "secret": [SECRET], "admin_token": ADMIN_TOKEN,
        "journal": f"sqlite:///{tmp_path / 'j.db'}", "default_plugin": "main",
        "plugins": {"main": paper, "sub": paper},
        "account_groups": {"both": {"main": {"multiplier": 1}, "sub": {"multiplier": 1}}},
        "sources": {"tv": {"plugin": "both", "approval": "always"}},
    })
    with TestClient(create_app(settings)) as client:
        token = make_source_token([SECRET], "tv")
        answer = client.post(f"/webhook/{token}", content=b"buy 1 ETHUSDT",
                             headers={"content-type": "text/plain"}).json()
        assert answer["status"] == "awaiting_approval"
        waiting = [s["id"] for s in client.get("/api/approvals", headers=ADMIN).json()[
            "approvals"]]
        assert waiting == [f"{answer['signal_id']}.1", f"{answer['signal_id']}.2"]
        first, second = waiting
        assert client.post(f"/api/signals/{first}/approve", headers=ADMIN).status_code == 200
        assert client.post(f"/api/signals/{second}/decline", headers=ADMIN).status_code == 200
        assert client.post(f"/api/signals/{first}/approve", headers=ADMIN).status_code == 409
        registry = client.app.state.services.registry  # type: ignore[attr-defined]
        for _ in range(500):  # bounded: a paper fill takes a few loop turns
            if registry.get("main").position("ETHUSDT"):
                break
            time.sleep(0.01)
        assert registry.get("main").position("ETHUSDT") == 1
        assert registry.get("sub").position("ETHUSDT") == 0


def test_the_expiry_keeps_running_after_an_unexpected_failure(
    journal_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webhook.decide.approvals.EXPIRY_INTERVAL", 0.01)
    with TestClient(create_app(Settings.model_validate(config(journal_file)))) as client:
        app = Running(client)
        queue = client.app.state.services.pipeline.approvals  # type: ignore[attr-defined]
        real, failures = queue.expire_due, []

        async def failing_once() -> list[Any]:
            if not failures:
                failures.append("boom")
                raise RuntimeError("a bug in the expiry")
            return await real()

        monkeypatch.setattr(queue, "expire_due", failing_once)
        signal_id = app.waiting_one()
        with sqlite3.connect(journal_file) as connection:
            connection.execute("UPDATE signals SET approval_deadline = ? WHERE id = ?",
                               (time.time() - 1, signal_id))
        for _ in range(500):  # bounded: the loop runs every 10 ms here
            if app.signal(signal_id)["status"] == "expired":
                break
            time.sleep(0.01)
        assert failures == ["boom"] and app.signal(signal_id)["status"] == "expired"
