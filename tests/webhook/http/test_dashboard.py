"""The dashboard's login, session cookie and CSRF protection, in process."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.throttle import FailureThrottle
from webhook.config.settings import Settings

TOKEN = "dashboard-admin-token-4b7e9c21"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.model_validate(
        {"admin_token": TOKEN, "journal": f"sqlite:///{tmp_path}/j.db"}
    )
    with TestClient(create_app(settings), base_url="http://dash.test") as running:
        yield running


def login_form_token(client: TestClient) -> str:
    page = client.get("/")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def log_in(client: TestClient) -> str:
    """Log in; return the page's CSRF token."""
    answer = client.post("/login", data={"token": TOKEN, "csrf": login_form_token(client)},
                         follow_redirects=False)
    assert answer.status_code == 303
    page = client.get("/")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found is not None
    return found.group(1)


def test_without_a_session_the_page_is_the_login_form(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'action="/login"' in page.text and "csrf-token" not in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_login_sets_an_httponly_samesite_session_cookie(client: TestClient) -> None:
    answer = client.post("/login", data={"token": TOKEN, "csrf": login_form_token(client)},
                         follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert cookie.startswith("tradehook_session=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http here; https behind a proxy sets it


def test_wrong_token_is_refused(client: TestClient) -> None:
    answer = client.post("/login", data={"token": "guess", "csrf": login_form_token(client)})
    assert answer.status_code == 401
    assert "Wrong admin token" in answer.text
    assert "tradehook_session" not in client.cookies
    assert client.get("/api/signals").status_code == 401


def test_login_without_its_csrf_token_is_refused(client: TestClient) -> None:
    login_form_token(client)
    answer = client.post("/login", data={"token": TOKEN})
    assert answer.status_code == 403
    assert "tradehook_session" not in client.cookies


def test_session_reads_the_api_without_a_bearer_token(client: TestClient) -> None:
    log_in(client)
    assert client.get("/api/signals").status_code == 200
    assert client.get("/api/kill-switch").json()["engaged"] is False


def test_actions_need_the_csrf_token(client: TestClient) -> None:
    csrf = log_in(client)
    missing = client.post("/api/kill-switch", json={"engaged": True})
    wrong = client.post("/api/kill-switch", json={"engaged": True},
                        headers={"x-csrf-token": "x" * len(csrf)})
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert "CSRF" in missing.json()["error"]
    assert client.get("/api/kill-switch").json()["engaged"] is False
    done = client.post("/api/kill-switch", json={"engaged": True}, headers={"x-csrf-token": csrf})
    assert done.status_code == 200 and done.json()["engaged"] is True


def test_cross_origin_action_is_refused_even_with_the_token(client: TestClient) -> None:
    csrf = log_in(client)
    answer = client.post("/api/kill-switch", json={"engaged": True},
                         headers={"x-csrf-token": csrf, "origin": "https://evil.example"})
    assert answer.status_code == 403


def test_session_of_another_admin_token_is_worthless(client: TestClient, tmp_path: Path) -> None:
    log_in(client)
    stolen = client.cookies["tradehook_session"]
    other = Settings.model_validate(
        {"admin_token": "rotated-admin-token-8f3d2a6c1e", "journal": f"sqlite:///{tmp_path}/k.db"}
    )
    with TestClient(create_app(other), base_url="http://dash.test") as fresh:
        fresh.cookies.set("tradehook_session", stolen)
        assert fresh.get("/api/signals").status_code == 401


def test_logout_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    csrf = log_in(client)
    assert client.post("/logout", data={}).status_code == 403
    answer = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/api/signals").status_code == 401


def test_static_files_are_served(client: TestClient) -> None:
    script = client.get("/static/dashboard.js")
    assert script.status_code == 200 and "EventSource" in script.text
    assert client.get("/static/dashboard.css").status_code == 200


def test_a_logged_out_cookie_stays_worthless(client: TestClient) -> None:
    csrf = log_in(client)
    kept = client.cookies["tradehook_session"]
    client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    client.cookies.set("tradehook_session", kept)
    assert client.get("/api/signals").status_code == 401
    assert 'action="/login"' in client.get("/").text


def test_changing_the_admin_token_ends_sessions_on_the_same_journal(
    client: TestClient, tmp_path: Path
) -> None:
    log_in(client)
    kept = client.cookies["tradehook_session"]
    changed = Settings.model_validate(  # a receiver beside the first, not its second executor
        {"admin_token": "rotated-admin-token-8f3d2a6c1e", "journal": f"sqlite:///{tmp_path}/j.db",
         "execution": {"enabled": False}}
    )
    with TestClient(create_app(changed), base_url="http://dash.test") as fresh:
        fresh.cookies.set("tradehook_session", kept)
        assert fresh.get("/api/signals").status_code == 401


def test_another_receiver_on_the_same_journal_accepts_the_session(
    client: TestClient, tmp_path: Path
) -> None:
    log_in(client)
    kept = client.cookies["tradehook_session"]
    same = Settings.model_validate({"admin_token": TOKEN, "journal": f"sqlite:///{tmp_path}/j.db",
                                    "execution": {"enabled": False}})
    with TestClient(create_app(same), base_url="http://dash.test") as other:
        other.cookies.set("tradehook_session", kept)
        assert other.get("/api/signals").status_code == 200


def test_the_session_key_is_not_the_admin_token(tmp_path: Path) -> None:
    cookies = []
    for name in ("a", "b"):
        settings = Settings.model_validate(
            {"admin_token": TOKEN, "journal": f"sqlite:///{tmp_path}/{name}.db"}
        )
        with TestClient(create_app(settings), base_url="http://dash.test") as running:
            log_in(running)
            cookies.append(running.cookies["tradehook_session"])
            running.cookies.clear()
            running.cookies.set("tradehook_session", cookies[0])
            assert running.get("/api/signals").status_code == (200 if name == "a" else 401)


@pytest.fixture
def patient(client: TestClient) -> TestClient:
    """The client, against a throttle whose first wait is long enough not to end mid-test."""
    services = client.app.state.services  # type: ignore[attr-defined]
    client.app.state.services = dataclasses.replace(  # type: ignore[attr-defined]
        services, admin_throttle=FailureThrottle(first_wait=600)
    )
    return client


def test_repeated_wrong_logins_are_throttled_with_retry_after(patient: TestClient) -> None:
    client = patient
    answers = []
    for _ in range(8):
        answer = client.post("/login", data={"token": "guess-" + "x" * 30,
                                              "csrf": login_form_token(client)})
        answers.append((answer.status_code, answer.headers.get("retry-after")))
    assert answers[:5] == [(401, None)] * 5
    assert {status for status, _ in answers[5:]} == {429}
    assert all(500 < int(wait or 0) <= 600 for _, wait in answers[5:])
    # The right token is refused too while the address waits: a guess cannot be confirmed.
    right = client.post("/login", data={"token": TOKEN, "csrf": login_form_token(client)},
                        follow_redirects=False)
    assert right.status_code == 429
    assert "tradehook_session" not in client.cookies


def test_wrong_bearer_tokens_share_the_throttle(patient: TestClient) -> None:
    client = patient
    codes = [
        client.get("/api/signals", headers={"authorization": f"Bearer wrong-{n}"}).status_code
        for n in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    refused = client.get("/api/signals", headers={"authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert client.post("/login", data={"token": TOKEN, "csrf": login_form_token(client)},
                       follow_redirects=False).status_code == 429


def test_ready_shows_details_only_to_an_administrator(client: TestClient) -> None:
    assert client.get("/ready").json() == {"status": "ready"}
    detailed = client.get("/ready", headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert detailed["plugins"] == {"mock": True} and "backlog" in detailed
    assert client.get("/ready", headers={"authorization": "Bearer wrong"}).status_code == 401
