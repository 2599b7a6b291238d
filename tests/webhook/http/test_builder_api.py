"""The alert builder's API and page: choices and URLs, templates, and test sends that are
decided and stored like any signal of their source but never executed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import read_source_token
from webhook.config.settings import Settings
from webhook.dialects.alert_templates import PASSPHRASE_STAND_IN

SECRET = WebhookSecret.generate()
ADMIN_TOKEN = "builder-admin-token-5d1c8e3a7f"
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}
PASSPHRASE = "open-sesame-41"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN_TOKEN, "journal": f"sqlite:///{tmp_path}/j.db",
        "public_url": "https://hooks.example.com",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0},
                    "sub": {"type": "mock", "delay_ms": 0}},
        "default_plugin": "paper",
        "account_groups": {"both": {"paper": {"multiplier": 1}, "sub": {"multiplier": 2}}},
        "sources": {
            "tv": {},
            "locked": {"passphrase": PASSPHRASE, "dialect": "pineconnector"},
            "strict": {"confidence_threshold": 0.9},
            "reviewed": {"approval": "always"},
            "fanned": {"plugin": "both"},
            "off": {"enabled": False},
            "signed": {},
        },
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def template(client: TestClient, **query: str) -> Any:
    return client.get("/api/builder/template", params=query, headers=ADMIN)


def send_test(client: TestClient, **body: Any) -> Any:
    return client.post("/api/builder/test", json=body, headers=ADMIN)


def paper(client: TestClient) -> MockPlugin:
    plugin = client.app.state.services.registry.get("paper")  # type: ignore[attr-defined]
    assert isinstance(plugin, MockPlugin)
    return plugin


def test_choices_list_the_url_sources_with_their_signed_urls(client: TestClient) -> None:
    answer = client.get("/api/builder", headers=ADMIN).json()
    sources = {source["name"]: source for source in answer["sources"]}
    assert set(sources) == {"tv", "locked", "strict", "reviewed", "fanned"}  # no signed, no off
    url = sources["tv"]["url"]
    assert url.startswith("https://hooks.example.com/webhook/")
    assert read_source_token([SECRET], url.rsplit("/", 1)[1]).source == "tv"
    assert sources["locked"]["dialects"] == ["pineconnector"] and sources["locked"]["passphrase"]
    assert len(sources["tv"]["dialects"]) == 5 and sources["strict"]["threshold"] == 0.9
    assert answer["url_note"] is None
    assert {d["name"] for d in answer["dialects"]} == set(sources["tv"]["dialects"])


def test_a_template_has_the_url_the_message_and_the_order_it_becomes(client: TestClient) -> None:
    answer = template(client, source="tv", dialect="plain", action="sell_limit", quantity="3")
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "sell 3 {{ticker}} limit {{close}}"
    assert body["sample_message"] == "sell 3 BTCUSDT limit 67250.5"
    assert body["order_text"] == "sell 3 BTCUSDT"
    assert body["order"]["order_type"] == "limit" and body["order"]["price"] == 67250.5
    assert read_source_token([SECRET], body["url"].rsplit("/", 1)[1]).source == "tv"


def test_the_passphrase_is_never_shown(client: TestClient) -> None:
    choices = client.get("/api/builder", headers=ADMIN).text
    written = template(client, source="locked", dialect="pineconnector", action="buy").json()
    assert PASSPHRASE not in choices and PASSPHRASE not in str(written)
    assert written["passphrase"] is True
    assert written["message"].endswith(f"secret={PASSPHRASE_STAND_IN}")


@pytest.mark.parametrize(("query", "field"), [
    ({"source": "nowhere", "dialect": "plain", "action": "buy"}, "source"),
    ({"source": "off", "dialect": "plain", "action": "buy"}, "source"),
    ({"source": "signed", "dialect": "plain", "action": "buy"}, "source"),
    ({"source": "locked", "dialect": "plain", "action": "buy"}, "dialect"),
    ({"source": "tv", "dialect": "plain", "action": "strategy"}, "action"),
    ({"source": "tv", "dialect": "plain", "action": "buy", "quantity": "-1"}, "quantity"),
    ({"source": "tv", "dialect": "plain", "action": "buy", "quantity": "inf"}, "quantity"),
    ({"source": "tv", "dialect": "plain"}, "action"),
])
def test_a_wrong_choice_is_refused_naming_the_field(
    client: TestClient, query: dict[str, str], field: str
) -> None:
    answer = template(client, **query)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_a_test_send_is_decided_and_stored_but_never_executed(client: TestClient) -> None:
    answer = send_test(client, source="tv", dialect="tradingview", action="buy", quantity=2,
                       ticker="ETHUSDT", close=3120.5)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["rule"]) == ("rejected", "test")
    assert body["order"]["symbol"] == "ETHUSDT" and body["order"]["quantity"] == 2
    assert '"ticker": "ETHUSDT"' in body["message"]
    stored = client.get(f"/api/signals/{body['signal_id']}", headers=ADMIN).json()
    assert stored["source"] == "tv" and stored["dialect"] == "tradingview"
    assert stored["attempts"] == [] and stored["order"]["quantity"] == 2
    listed = client.get("/api/signals", params={"source": "tv"}, headers=ADMIN).json()
    assert [s["id"] for s in listed["signals"]] == [body["signal_id"]]
    assert paper(client).position("ETHUSDT") == 0


def test_a_test_send_meets_the_sources_rules(client: TestClient) -> None:
    body = send_test(client, source="strict", dialect="native", action="sell").json()
    assert body["status"] == "filtered"  # 0.6 is below the source's threshold of 0.9


def test_a_test_send_never_waits_for_approval(client: TestClient) -> None:
    body = send_test(client, source="reviewed", dialect="plain", action="buy").json()
    assert (body["status"], body["rule"]) == ("rejected", "test")  # nothing to approve
    assert client.get("/api/approvals", headers=ADMIN).json()["approvals"] == []


def test_a_test_send_to_several_accounts_executes_on_none(client: TestClient) -> None:
    body = send_test(client, source="fanned", dialect="plain", action="buy", quantity=1,
                     ticker="ETHUSDT").json()
    stored = client.get(f"/api/signals/{body['signal_id']}", headers=ADMIN).json()
    children = client.get("/api/signals", headers=ADMIN).json()["signals"]
    tests = [s for s in children if s["id"].startswith(f"{body['signal_id']}.")]
    assert len(tests) == 2 and stored["attempts"] == []
    assert all(s["status"] == "rejected" and s["reason"].startswith("test") for s in tests)


def test_a_test_send_carries_the_passphrase_which_is_not_stored(client: TestClient) -> None:
    body = send_test(client, source="locked", dialect="pineconnector", action="close_long").json()
    assert (body["status"], body["rule"]) == ("rejected", "test")
    assert PASSPHRASE not in str(body)
    stored = client.get(f"/api/signals/{body['signal_id']}", headers=ADMIN).json()
    assert PASSPHRASE not in stored["raw_body"] and "secret=[redacted]" in stored["raw_body"]


@pytest.mark.parametrize(("body", "field"), [
    ({"source": "tv", "dialect": "plain", "action": "buy", "ticker": "BTC USDT"}, "ticker"),
    ({"source": "tv", "dialect": "plain", "action": "buy", "close": 0}, "close"),
    ({"source": "tv", "dialect": "plain", "action": "buy", "extra": 1}, "extra"),
    ({"source": "tv", "dialect": "plain"}, "action"),
])
def test_a_wrong_test_send_is_refused_and_not_stored(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    answer = send_test(client, **body)
    assert answer.status_code == 400 and answer.json()["field"] == field
    assert client.get("/api/signals", headers=ADMIN).json()["signals"] == []


def test_the_api_needs_the_admin(client: TestClient) -> None:
    assert client.get("/api/builder").status_code == 401
    assert client.post("/api/builder/test", json={}).status_code == 401


def log_in(client: TestClient) -> str:
    form = client.get("/").text
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    assert found is not None
    client.post("/login", data={"token": ADMIN_TOKEN, "csrf": found.group(1)},
                follow_redirects=False)
    page = client.get("/builder")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert csrf is not None
    return csrf.group(1)


def test_the_page_needs_a_session_and_a_strict_policy(client: TestClient) -> None:
    away = client.get("/builder", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/"
    log_in(client)
    page = client.get("/builder")
    assert page.status_code == 200 and 'src="/static/builder.js"' in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "style=" not in page.text


def test_a_test_send_from_the_page_needs_its_csrf_token(client: TestClient) -> None:
    csrf = log_in(client)
    choice = {"source": "tv", "dialect": "plain", "action": "buy"}
    assert client.post("/api/builder/test", json=choice).status_code == 403
    sent = client.post("/api/builder/test", json=choice, headers={"x-csrf-token": csrf})
    assert sent.status_code == 200 and sent.json()["rule"] == "test"
