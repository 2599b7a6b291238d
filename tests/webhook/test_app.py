"""The app in process: answers that need a journal or plugin in a particular state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings
from webhook.errors import JournalError
from webhook.journal import NewSignal, SqliteJournal, Stored

SECRET = WebhookSecret.generate()
ADMIN_TOKEN = "app-test-admin-token-5e8c1a9f"


class BrokenDiskJournal(SqliteJournal):
    """Opens, but every new signal fails to commit, as on a full or failing disk."""

    broken = True

    async def record(self, signal: NewSignal) -> Stored:
        if self.broken:
            raise JournalError("disk I/O error")
        return await super().record(signal)

    async def healthy(self) -> bool:
        return not self.broken


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[tuple[TestClient, BrokenDiskJournal]]:
    journal = BrokenDiskJournal(tmp_path / "j.db")
    settings = Settings(secret=[SECRET], admin_token=ADMIN_TOKEN)  # type: ignore[arg-type]
    with TestClient(create_app(settings, journal=journal)) as client:
        yield client, journal


def post(client: TestClient, body: bytes = b"buy 1 BTCUSDT") -> tuple[int, dict[str, str]]:
    headers = {**signature_headers(SECRET, body), "content-type": "text/plain"}
    answer = client.post("/webhook", content=body, headers=headers)
    return answer.status_code, answer.json()


def test_signal_that_cannot_be_stored_is_503_and_not_acknowledged(
    broken: tuple[TestClient, BrokenDiskJournal],
) -> None:
    client, journal = broken
    status, body = post(client)
    assert status == 503
    assert "signal_id" not in body
    assert "disk" not in body["error"]
    journal.broken = False
    status, body = post(client)
    assert status == 202


def test_invalid_signal_that_cannot_be_stored_is_also_503(
    broken: tuple[TestClient, BrokenDiskJournal],
) -> None:
    client, _ = broken
    assert post(client, b"buy -1 X")[0] == 503


def test_ready_is_503_while_the_journal_is_down(
    broken: tuple[TestClient, BrokenDiskJournal],
) -> None:
    client, journal = broken
    admin = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    answer = client.get("/ready", headers=admin)
    assert answer.status_code == 503
    assert answer.json()["journal"] is False
    assert client.get("/ready").json() == {"status": "not ready"}  # details need the token
    journal.broken = False
    ready = client.get("/ready", headers=admin).json()
    assert ready["status"] == "ready" and ready["plugins"] == {"mock": True}


def test_health_is_always_ok(broken: tuple[TestClient, BrokenDiskJournal]) -> None:
    client, _ = broken
    assert client.get("/health").json() == {"status": "ok"}


def test_no_secret_configured_refuses_signed_posts(tmp_path: Path) -> None:
    settings = Settings(journal=f"sqlite:///{tmp_path}/j.db")
    with TestClient(create_app(settings)) as client:
        answer = client.post("/webhook", content=b"buy 1 X")
        assert answer.status_code == 401
        assert "no webhook secret" in answer.json()["error"]


def test_admin_api_is_off_without_an_admin_token(tmp_path: Path) -> None:
    settings = Settings(journal=f"sqlite:///{tmp_path}/j.db", secret=[SECRET])
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/signals", headers={"authorization": "Bearer "})
        assert answer.status_code == 401


def test_bad_query_parameters_are_named(tmp_path: Path) -> None:
    settings = Settings(journal=f"sqlite:///{tmp_path}/j.db",
                        admin_token=ADMIN_TOKEN)  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as client:
        auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        for query, field in (("status=done", "status"), ("limit=0", "limit"),
                             ("limit=x", "limit")):
            answer = client.get(f"/api/signals?{query}", headers=auth)
            assert answer.status_code == 400
            assert answer.json()["field"] == field
        assert client.get("/api/signals/nope", headers=auth).status_code == 404
        plugins = client.get("/api/plugins", headers=auth).json()
        assert plugins["default"] == "mock"
        assert plugins["plugins"][0]["capabilities"]["lookup_by_client_order_id"] is True
        assert plugins["plugins"][0]["description"] == {"details": {}, "warnings": []}
