"""Per-source de-duplication of alerts that carry no id, by their body."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings, SourceSettings
from webhook.decide.repeat_window import RepeatWindow

SECRET = WebhookSecret.generate()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_same_body_within_the_window_repeats_the_first_signal() -> None:
    clock = Clock()
    window = RepeatWindow(clock)
    window.remember("tv", b"buy 1 ES", "S1", seconds=5)
    clock.now += 5
    assert window.first("tv", b"buy 1 ES") == "S1"
    clock.now += 0.01
    assert window.first("tv", b"buy 1 ES") is None


def test_other_bodies_and_other_sources_are_not_repeats() -> None:
    window = RepeatWindow(Clock())
    window.remember("tv", b"buy 1 ES", "S1", seconds=5)
    assert window.first("tv", b"buy 2 ES") is None
    assert window.first("other", b"buy 1 ES") is None


def test_expired_entries_are_forgotten() -> None:
    clock = Clock()
    window = RepeatWindow(clock)
    for n in range(1000):
        window.remember("tv", f"buy {n} ES".encode(), f"S{n}", seconds=1)
    clock.now += 2
    window.first("tv", b"anything")
    assert not window._seen


def make_client(tmp_path: Path, dedup_seconds: float | None) -> tuple[TestClient, str]:
    settings = Settings(
        secret=[SECRET], journal=f"sqlite:///{tmp_path}/j.db",
        sources={"tv": SourceSettings(dedup_seconds=dedup_seconds)},
    )
    return TestClient(create_app(settings)), "/webhook/" + make_source_token([SECRET], "tv")


def test_source_with_a_window_answers_a_repeated_body_duplicate(tmp_path: Path) -> None:
    client, url = make_client(tmp_path, dedup_seconds=10)
    with client:
        body = b'{"ticker": "ES1!", "action": "buy", "contracts": "1"}'
        first = client.post(url, content=body, headers={"content-type": "application/json"})
        again = client.post(url, content=body, headers={"content-type": "application/json"})
        other = client.post(url, content=body.replace(b'"1"', b'"2"'),
                            headers={"content-type": "application/json"})
    assert first.status_code == 202
    assert again.json() == {"status": "duplicate", "signal_id": first.json()["signal_id"]}
    assert other.status_code == 202


def test_alerts_with_their_own_id_are_deduplicated_by_it_in_a_window_source(tmp_path: Path) -> None:
    client, url = make_client(tmp_path, dedup_seconds=10)
    with client:
        first = client.post(url, content=b"buy 1 ES id a1")
        second = client.post(url, content=b"buy 1 ES id a2")
        repeat = client.post(url, content=b"buy 1 ES id a1")
    assert first.status_code == second.status_code == 202
    assert repeat.json()["status"] == "duplicate"


def test_without_a_window_the_same_body_is_a_new_signal(tmp_path: Path) -> None:
    client, url = make_client(tmp_path, dedup_seconds=None)
    with client:
        answers = [client.post(url, content=b"buy 1 ES") for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 202]
