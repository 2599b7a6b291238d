"""End to end: the real server process, spoken to over HTTP as senders and admins would."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.server import RunningServer
from webhook.auth.signatures import WebhookSecret, signature_headers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"


def test_signed_order_is_queued_then_filled_by_the_paper_plugin(server: RunningServer) -> None:
    answer = server.post_signed(
        json.dumps({"symbol": "BTC/USDT", "side": "buy", "quantity": 0.1}),
        content_type="application/json",
    )
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    record = server.wait_for_signal(answer.json()["signal_id"])
    assert record["status"] == "filled"
    assert record["result"]["order_id"].startswith("MOCK-")
    assert record["result"]["client_order_id"] == record["id"]
    assert record["attempts"][0]["outcome"] == "result"


def test_replayed_webhook_id_is_a_duplicate_and_executes_once(server: RunningServer) -> None:
    body = b"buy 1 ETHUSDT"
    headers = signature_headers(server.secret, body, msg_id="msg_replay_e2e")
    headers["content-type"] = "text/plain"
    first = httpx.post(f"{server.url}/webhook", content=body, headers=headers)
    again = httpx.post(f"{server.url}/webhook", content=body, headers=headers)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "signal_id": first.json()["signal_id"]}
    server.wait_for_signal(first.json()["signal_id"])
    stored = server.admin_get("/api/signals", symbol="ETHUSDT").json()["signals"]
    assert [s["id"] for s in stored] == [first.json()["signal_id"]]


def test_tradingview_url_takes_a_tradingview_body_with_no_headers_of_ours(
    server: RunningServer,
) -> None:
    url = server.run_cli("url", "tradingview", "--base", server.url).stdout.decode().strip()
    body = (FIXTURES / "tradingview_strategy_entry.json").read_bytes()
    answer = httpx.post(url, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 202, answer.text
    record = server.wait_for_signal(answer.json()["signal_id"])
    assert record["source"] == "tradingview"
    assert record["dialect"] == "tradingview"
    assert record["order"]["symbol"] == "BTCUSDT"
    assert record["order"]["quantity"] == 0.015
    assert record["status"] == "filled"
    assert record["raw_body"] == body.decode()


def test_forged_source_token_is_refused(server: RunningServer) -> None:
    url = server.run_cli("url", "tradingview", "--base", server.url).stdout.decode().strip()
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    answer = httpx.post(forged, content=b"buy 1 BTCUSDT", headers={"content-type": "text/plain"})
    assert answer.status_code == 401
    other_key = WebhookSecret.generate()
    from webhook.auth.source_urls import make_source_token

    foreign = f"{server.url}/webhook/{make_source_token([other_key], 'tradingview')}"
    answer = httpx.post(foreign, content=b"buy 1 BTCUSDT", headers={"content-type": "text/plain"})
    assert answer.status_code == 401


def test_below_threshold_signal_is_filtered_and_never_executed(server: RunningServer) -> None:
    body = (FIXTURES / "native_agent_low_confidence.json").read_bytes()
    answer = server.post_signed(body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["status"] == "filtered"
    assert "0.41" in answer.json()["reason"] and "0.6" in answer.json()["reason"]
    record = server.signal(answer.json()["signal_id"])
    assert record["status"] == "filtered"
    assert record["attempts"] == []
