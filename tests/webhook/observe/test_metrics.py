"""`GET /metrics`, parsed with prometheus-client's own parser after some traffic."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
ADMIN = {"authorization": "Bearer metrics-admin-token-6a1d9e3f7c"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return sum(
        value for (sample, sample_labels), value in found.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_counters_add_up_after_traffic(tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "secret": [SECRET], "admin_token": "metrics-admin-token-6a1d9e3f7c", "journal": f"sqlite:///{tmp_path}/j.db",
    })
    bodies = [b"buy 1 BTCUSDT", b"sell 2 ETHUSDT", b"buy 0.5 SOLUSDT",
              b'{"symbol": "XRPUSDT", "side": "buy", "quantity": 3}',
              b"buy 1 ADAUSDT confidence 0.3", b"buy -1 X"]
    codes = []
    with TestClient(create_app(settings)) as client:
        for body in bodies:
            headers = {**signature_headers(SECRET, body), "content-type": "text/plain"}
            codes.append(client.post("/webhook", content=body, headers=headers).status_code)
        replay = {**signature_headers(SECRET, b"buy 1 DOTUSDT", msg_id="msg_once"),
                  "content-type": "text/plain"}
        codes.append(client.post("/webhook", content=b"buy 1 DOTUSDT", headers=replay).status_code)
        codes.append(client.post("/webhook", content=b"buy 1 DOTUSDT", headers=replay).status_code)
        codes.append(client.post("/webhook", content=b"buy 1 X").status_code)  # unsigned
        assert codes == [202, 202, 202, 202, 200, 400, 202, 200, 401]
        deadline = time.monotonic() + 10
        while client.get("/api/signals?status=queued", headers=ADMIN).json()["signals"] or \
                client.get("/api/signals?status=executing", headers=ADMIN).json()["signals"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.05)
        text = client.get("/metrics").text
        stored = client.get("/api/signals", headers=ADMIN).json()["signals"]

    found = samples(text)
    decided = total(found, "tradehook_signals_total")
    assert decided == 8  # every answer with a signal id, the duplicate included
    assert total(found, "tradehook_signals_total", status="queued") == 5
    assert total(found, "tradehook_signals_total", status="filtered") == 1
    assert total(found, "tradehook_signals_total", status="invalid") == 1
    assert total(found, "tradehook_signals_total", status="duplicate") == 1
    assert total(found, "tradehook_signals_total", source="signed", dialect="native") == 1
    assert total(found, "tradehook_requests_refused_total", code="401") == 1
    assert total(found, "tradehook_answer_seconds_count", endpoint="signed") == len(codes)
    assert len(stored) == decided - 1  # the duplicate stored nothing new
    filled = total(found, "tradehook_signals_executed_total", plugin="mock", status="filled")
    assert filled == 5 == sum(1 for s in stored if s["status"] == "filled")
    attempts = total(found, "tradehook_execution_attempts_total", plugin="mock")
    assert attempts == total(found, "tradehook_execution_seconds_count", plugin="mock") == 5
    assert total(found, "tradehook_execution_retries_total") == 0
    assert total(found, "tradehook_queue_depth") == 0
    assert total(found, "tradehook_plugin_healthy", plugin="mock") == 1
    assert total(found, "tradehook_kill_switch_engaged") == 0


def test_kill_switch_gauge_follows_the_switch(tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "secret": [SECRET], "admin_token": "metrics-admin-token-6a1d9e3f7c", "journal": f"sqlite:///{tmp_path}/j.db",
    })
    with TestClient(create_app(settings)) as client:
        answer = client.post("/api/kill-switch", json={"engaged": True}, headers=ADMIN)
        assert answer.status_code == 200
        engaged = total(samples(client.get("/metrics").text), "tradehook_kill_switch_engaged")
        client.post("/api/kill-switch", json={"engaged": False}, headers=ADMIN)
        released = total(samples(client.get("/metrics").text), "tradehook_kill_switch_engaged")
    assert (engaged, released) == (1, 0)
