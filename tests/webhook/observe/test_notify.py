"""Notifications: delivered to local HTTP receivers, retried, and never in execution's way."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers, verify_signature
from webhook.config.loader import load_settings
from webhook.config.settings import Settings
from webhook.errors import ConfigError
from webhook.journal import SignalStatus, SqliteJournal
from webhook.observe.events import SignalEvent, SignalEvents
from webhook.observe.metrics import Metrics
from webhook.observe.notify.messages import Notification, request_for
from webhook.observe.notify.sender import Notifier
from webhook.observe.notify.targets import NotificationTarget

SIGNING = WebhookSecret.generate()
ADMIN = {"authorization": "Bearer notify-admin-token-2c8e5f1a9b"}


class Receiver:
    """A local HTTP server: records what is posted; `/hang` never answers, `/flaky` fails
    twice with 503 before it takes a message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.flaky_failures = 2
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path == "/hang":
                    receiver.release.wait(30)
                    return
                if self.path == "/flaky" and receiver.flaky_failures > 0:
                    receiver.flaky_failures -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, path: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [json.loads(body) for p, _, body in self.received if p == path]
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"{path}: got {found}"
            time.sleep(0.02)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def note() -> Notification:
    return Notification(id="ntf_SIG_filled", event="filled", at=1_700_000_000.0,
                        text="tradehook: FILLED buy 1 BTCUSDT via mock", signal_id="SIG",
                        data={"status": "filled"})


def target(kind: str, url: str = "https://example.invalid/x", **more: Any) -> NotificationTarget:
    return NotificationTarget.model_validate({"kind": kind, "url": url, **more})


def test_each_kind_gets_the_shape_it_expects() -> None:
    telegram, _ = request_for(target("telegram", chat_id="42"), note())
    discord, _ = request_for(target("discord"), note())
    slack, _ = request_for(target("slack"), note())
    assert json.loads(telegram) == {"chat_id": "42", "text": note().text,
                                    "disable_web_page_preview": True}
    assert json.loads(discord)["content"] == note().text
    assert json.loads(discord)["allowed_mentions"] == {"parse": []}
    assert json.loads(slack) == {"text": note().text}


def test_generic_webhook_is_signed_with_standard_webhooks() -> None:
    body, headers = request_for(target("webhook", secret=str(SIGNING)), note())
    assert verify_signature([SIGNING], headers, body) == "ntf_SIG_filled"
    payload = json.loads(body)
    assert payload["type"] == "signal.filled"
    assert payload["data"]["signal_id"] == "SIG"


def test_kinds_refuse_missing_parts() -> None:
    with pytest.raises(ValueError, match="chat_id"):
        target("telegram")
    with pytest.raises(ValueError, match="secret"):
        target("webhook")


def test_notification_url_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text('[notifications.team]\nkind = "slack"\nurl = "https://hooks.slack.com/x"\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notifications\.team\.url.*"
                       r"TRADEHOOK_NOTIFICATIONS__TEAM__URL"):
        load_settings(config, {"TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")})
    config.write_text('[notifications.team]\nkind = "slack"\n', encoding="utf-8")
    settings = load_settings(config, {"TRADEHOOK_NOTIFICATIONS__TEAM__URL": "https://h/x",
                                      "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")})
    assert settings.notifications["team"].url.get_secret_value() == "https://h/x"


def test_temporary_failures_are_retried_until_delivered(
    receiver: Receiver, tmp_path: Path
) -> None:
    async def run() -> float:
        journal = SqliteJournal(str(tmp_path / "j.db"))
        await journal.open()
        events, metrics = SignalEvents(), Metrics()
        flaky = target("slack", f"{receiver.url}/flaky")
        notifier = Notifier({"flaky": flaky}, journal, metrics, retry_base_delay=0.01)
        notifier.start(events)
        events.publish(SignalEvent(kind="attempt", signal_id="SIG", status=SignalStatus.FAILED,
                                   plugin="mock", outcome="error", error="insufficient funds"))
        await notifier.stop(grace=5)
        await journal.close()
        return metrics.notifications.labels("flaky", "sent")._value.get()

    sent = asyncio.run(run())
    (message,) = receiver.wait_for("/flaky")
    assert receiver.flaky_failures == 0 and sent == 1
    assert message["text"] == "tradehook: FAILED signal via mock: insufficient funds (signal SIG)"


def test_fills_rejections_and_kill_switch_are_told_and_a_hung_receiver_delays_nothing(
    receiver: Receiver, tmp_path: Path
) -> None:
    settings = Settings.model_validate({
        "secret": [SIGNING], "admin_token": "notify-admin-token-2c8e5f1a9b", "journal": f"sqlite:///{tmp_path}/j.db",
        "notifications": {
            "hung": {"kind": "slack", "url": f"{receiver.url}/hang", "timeout": 20},
            "ops": {"kind": "webhook", "url": f"{receiver.url}/ops", "secret": str(SIGNING)},
            "phone": {"kind": "telegram", "url": f"{receiver.url}/telegram", "chat_id": "7",
                      "events": ["filled", "kill_switch"]},
        },
    })
    def post(client: TestClient, body: bytes) -> dict[str, str]:
        headers = {**signature_headers(SIGNING, body), "content-type": "text/plain"}
        answer = client.post("/webhook", content=body, headers=headers)
        result: dict[str, str] = answer.json()
        return result

    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        signal_ids = [post(client, f"buy 1 SYM{i}USDT".encode())["signal_id"] for i in range(3)]
        for signal_id in signal_ids:
            while client.get(f"/api/signals/{signal_id}", headers=ADMIN).json()["status"] != \
                    "filled":
                assert time.monotonic() - started < 2, "execution waited for a notification"
                time.sleep(0.01)
        assert client.post("/api/kill-switch", json={"engaged": True},
                           headers=ADMIN).status_code == 200
        rejected = post(client, b"buy 1 BTCUSDT")
        assert rejected["status"] == "rejected"

        ops = receiver.wait_for("/ops", count=5)
        phone = receiver.wait_for("/telegram", count=4)
        assert time.monotonic() - started < 5

    types = [message["type"] for message in ops]
    assert sorted(types) == ["kill_switch", "signal.filled", "signal.filled", "signal.filled",
                             "signal.rejected"]
    filled = next(m for m in ops if m["type"] == "signal.filled")
    assert filled["data"]["order"]["symbol"].startswith("SYM")
    assert filled["data"]["result"]["order_id"].startswith("MOCK-")
    ops_headers = [h for p, h, _ in receiver.received if p == "/ops"]
    assert all("webhook-signature" in h for h in ops_headers)
    assert all(m["chat_id"] == "7" for m in phone)
    assert any("kill switch ENGAGED" in m["text"] for m in phone)
    assert not any("REJECTED" in m["text"] for m in phone)  # not among its events
