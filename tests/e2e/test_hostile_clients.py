"""End to end, as a hostile client meets it: the real `tradehook serve` on loopback refuses
what is no credential, checks who is calling before it reads a byte of the body, bounds what a
slow or vanishing client can hold, and throttles guessing. Each test starts from one valid
request and breaks one thing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import raw_http
from tests.e2e.server import TEST_SECRET, RunningServer, start_server, tradehook_command
from webhook.auth.signatures import WebhookSecret, sign, signature_headers
from webhook.auth.source_urls import make_source_token

BODY = b"buy 0.1 BTC/USDT"
PASSPHRASE = "open-sesame-e2e-1234"
CONFIG = """
[sources.tradingview]
[sources.guarded]
[sources.webhook-id]
"""
READ_SECONDS = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("hostile"), config_toml=CONFIG,
        env={"TRADEHOOK_SOURCES__GUARDED__PASSPHRASE": PASSPHRASE,
             "TRADEHOOK_CLIENT_READ_SECONDS": str(READ_SECONDS)},
    )
    yield running
    running.stop()


def signed_headers(server: RunningServer, body: bytes = BODY, **changes: str) -> dict[str, str]:
    headers = {**signature_headers(server.secret, body), "content-type": "text/plain"}
    headers.update({k.replace("_", "-"): v for k, v in changes.items()})
    return headers


def source_path(server: RunningServer, source: str) -> str:
    return "/webhook/" + make_source_token([server.secret], source)


def count_signals(server: RunningServer) -> int:
    return len(server.admin_get("/api/signals", limit=500).json()["signals"])


def refused_at_start(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`tradehook serve`, which must exit at once with a message (and `check`, the same)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRADEHOOK_")}
    full = {**base, "TRADEHOOK_SECRET": TEST_SECRET, **env,
            "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")}
    check = subprocess.run([tradehook_command(), "check"], capture_output=True, text=True,
                           env=full, cwd=tmp_path, timeout=30, check=False, encoding="utf-8")
    serve = subprocess.run([tradehook_command(), "serve", "--port", "0"], capture_output=True,
                           text=True, encoding="utf-8", env=full, cwd=tmp_path, timeout=30,
                           check=False)
    assert serve.returncode == check.returncode == 2, (serve.stdout, serve.stderr)
    assert serve.stderr == check.stderr
    return serve


# -- credentials that are no credential ----------------------------------------------------


@pytest.mark.parametrize("token", ["", "REPLACE_ME", "a"])
def test_blank_placeholder_or_short_admin_token_stops_the_start(tmp_path: Path, token: str) -> None:
    done = refused_at_start(tmp_path, {"TRADEHOOK_ADMIN_TOKEN": token})
    assert done.stderr.startswith("tradehook: admin_token: ")
    assert "(from TRADEHOOK_ADMIN_TOKEN)" in done.stderr


def test_empty_passphrase_stops_the_start(tmp_path: Path) -> None:
    done = refused_at_start(tmp_path, {"TRADEHOOK_SOURCES__TRADINGVIEW__PASSPHRASE": "",
                                       "TRADEHOOK_ADMIN_TOKEN": "Zk3q-9vN_2sLx8PwR4mT7yB1cE6"})
    assert done.stderr.startswith("tradehook: sources.tradingview.passphrase: is empty")


def test_short_webhook_secret_stops_the_start(tmp_path: Path) -> None:
    short = str(WebhookSecret(b"sixteen-byte-key"))
    done = refused_at_start(tmp_path, {"TRADEHOOK_SECRET": short})
    assert done.stderr.startswith("tradehook: secret: a secret must hold at least 24 bytes")


def test_an_empty_bearer_token_opens_nothing(server: RunningServer) -> None:
    with raw_http.connect(server.url) as sock:
        sock.sendall(b"GET /api/signals HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                     b"authorization: Bearer \r\n\r\n")
        status, _ = raw_http.read_answer(sock)
    assert status == 401


# -- who is calling, before the body -------------------------------------------------------


def test_a_bad_source_token_is_401_before_the_body_is_read(server: RunningServer) -> None:
    with raw_http.connect(server.url) as sock:
        sock.sendall(raw_http.head("/webhook/not-a-token", {"content-type": "text/plain"},
                                   content_length=70_000) + b"buy")
        status, _ = raw_http.read_answer(sock)
    assert status == 401  # not 413, and without waiting for the 70 KB


def test_signed_request_without_its_headers_is_401_before_the_body(server: RunningServer) -> None:
    headers = signed_headers(server)
    del headers["webhook-signature"]
    with raw_http.connect(server.url) as sock:
        sock.sendall(raw_http.head("/webhook", headers, content_length=60_000))
        status, answer = raw_http.read_answer(sock)
    assert status == 401 and b"webhook-signature" in answer


def test_a_stale_timestamp_is_401_before_the_body(server: RunningServer) -> None:
    stale = str(int(time.time()) - 3600)
    with raw_http.connect(server.url) as sock:
        sock.sendall(raw_http.head("/webhook", signed_headers(server, webhook_timestamp=stale),
                                   content_length=60_000))
        status, answer = raw_http.read_answer(sock)
    assert status == 401 and b"too old" in answer


def test_a_webhook_id_that_could_splice_is_refused_naming_the_header(
    server: RunningServer,
) -> None:
    now = int(time.time())
    # Signed as id `x`, body `NOW.buy...`; offered as id `x.NOW`, body `buy...`.
    signature = sign(server.secret, "x", now, f"{now}.".encode() + BODY)
    headers = {"webhook-id": f"x.{now}", "webhook-timestamp": str(now),
               "webhook-signature": signature, "content-type": "text/plain"}
    answer = httpx.post(f"{server.url}/webhook", content=BODY, headers=headers)
    assert answer.status_code == 401 and "webhook-id" in answer.json()["error"]


# -- the reserved source and the idempotency namespaces -----------------------------------


def test_signed_is_never_a_url_source(server: RunningServer) -> None:
    answer = httpx.post(server.url + source_path(server, "signed"), content=BODY,
                        headers={"content-type": "text/plain"})
    assert answer.status_code == 403 and "reserved" in answer.json()["error"]
    assert server.run_cli("url", "signed").returncode == 2


def test_a_source_named_webhook_id_cannot_take_a_signed_senders_key(
    server: RunningServer,
) -> None:
    key = f"collide_{time.time_ns()}"
    signed = {**signature_headers(server.secret, BODY, msg_id=key), "content-type": "text/plain"}
    first = httpx.post(f"{server.url}/webhook", content=BODY, headers=signed)
    second = httpx.post(server.url + source_path(server, "webhook-id"),
                        content=json.dumps({"symbol": "BTCUSDT", "side": "buy", "quantity": 1,
                                            "id": key}).encode(),
                        headers={"content-type": "application/json"})
    assert first.status_code == second.status_code == 202
    assert first.json()["signal_id"] != second.json()["signal_id"]


def test_a_json_escaped_passphrase_is_checked_and_redacted_leaving_the_body_intact(
    server: RunningServer,
) -> None:
    escaped = "\\u00" + format(ord(PASSPHRASE[0]), "02x") + PASSPHRASE[1:]
    body = ('{"symbol": "ETHUSDT", "side": "buy", "quantity": 0.1, "passphrase": "'
            + escaped + '"}').encode()
    answer = httpx.post(server.url + source_path(server, "guarded"), content=body,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 202, answer.text
    stored = server.signal(answer.json()["signal_id"])["raw_body"]
    assert stored == '{"symbol": "ETHUSDT", "side": "buy", "quantity": 0.1, "passphrase": ' \
                     '"[redacted]"}'
    wrong = body.replace(escaped.encode(), b"open-sesame-e2e-0000")
    assert httpx.post(server.url + source_path(server, "guarded"), content=wrong,
                      headers={"content-type": "application/json"}).status_code == 403


# -- slow and vanishing clients ------------------------------------------------------------


def test_a_body_sent_too_slowly_is_answered_408_and_closed(server: RunningServer) -> None:
    headers = signed_headers(server)
    with raw_http.connect(server.url) as sock:
        sock.sendall(raw_http.head("/webhook", headers, content_length=len(BODY)))
        started = time.monotonic()
        for byte in BODY[:READ_SECONDS * 2]:
            sock.sendall(bytes([byte]))
            time.sleep(0.6)
            if time.monotonic() - started > READ_SECONDS + 1:
                break
        status, answer = raw_http.read_answer(sock, timeout=READ_SECONDS + 3)
        assert status == 408, answer
        assert raw_http.closed_by_server(sock, timeout=3)
    assert time.monotonic() - started < READ_SECONDS + 5


def test_a_head_sent_too_slowly_is_closed(server: RunningServer) -> None:
    with raw_http.connect(server.url) as sock:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        started = time.monotonic()
        assert raw_http.closed_by_server(sock, timeout=READ_SECONDS + 4)
    assert time.monotonic() - started < READ_SECONDS + 4


def test_a_head_larger_than_16_kib_is_answered_400_and_closed(server: RunningServer) -> None:
    padding = {"x-padding": "p" * 17_000}
    with raw_http.connect(server.url) as sock:
        sock.sendall(raw_http.head("/webhook", {**signed_headers(server), **padding},
                                   content_length=len(BODY)))
        status, _ = raw_http.read_answer(sock)
        assert status == 400
        assert raw_http.closed_by_server(sock, timeout=3)


def test_an_endless_head_in_small_pieces_is_refused_at_16_kib(server: RunningServer) -> None:
    with raw_http.connect(server.url) as sock:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: ")
        sent = 0
        try:
            while sent < 64 * 1024:
                sock.sendall(b"p" * 1024)
                sent += 1024
                time.sleep(0.002)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _ = raw_http.read_answer(sock)
    assert status in (0, 400) and sent < 64 * 1024


def test_a_head_just_under_16_kib_is_read(server: RunningServer) -> None:
    padding = {"x-padding": "p" * 15_000}
    with raw_http.connect(server.url) as sock:
        sock.sendall(raw_http.head("/webhook", {**signed_headers(server), **padding},
                                   content_length=len(BODY)) + BODY)
        status, answer = raw_http.read_answer(sock)
    assert status == 202, answer


def test_clients_that_leave_mid_body_leave_no_traceback(server: RunningServer) -> None:
    before = server.log
    for n in range(40):
        headers = {**signature_headers(server.secret, b"x" * 65_536, msg_id=f"gone_{n}"),
                   "content-type": "text/plain"}
        with raw_http.connect(server.url) as sock:
            sock.sendall(raw_http.head("/webhook", headers, content_length=65_536) + b"x" * 30_000)
    time.sleep(0.5)
    assert server.alive()
    written = server.log[len(before):]
    assert "Traceback" not in written and '"level": "error"' not in written, written[:2000]
    assert httpx.post(f"{server.url}/webhook", content=BODY,
                      headers=signed_headers(server)).status_code == 202


def test_malformed_requests_do_not_fill_the_log(server: RunningServer) -> None:
    before = server.log
    for _ in range(30):
        with raw_http.connect(server.url) as sock:
            sock.sendall(b"GARBAGE \x00\x01 NOT-HTTP\r\n\r\n")
            status, _ = raw_http.read_answer(sock)
            assert status in (0, 400)
    time.sleep(0.3)
    assert "Invalid HTTP request" not in server.log[len(before):]
    assert server.alive()


# -- guessing the admin token --------------------------------------------------------------


def test_wrong_bearer_tokens_are_throttled_and_then_even_the_right_one_waits(
    tmp_path: Path,
) -> None:
    running = start_server(tmp_path)
    try:
        codes = [httpx.get(f"{running.url}/api/signals",
                           headers={"authorization": f"Bearer guess-{n}"}).status_code
                 for n in range(6)]
        right = httpx.get(f"{running.url}/api/signals",
                          headers={"authorization": f"Bearer {running.admin_token}"})
    finally:
        running.stop()
    assert codes[:5] == [401] * 5 and codes[5] == 429
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


def test_logging_out_ends_the_session_for_good(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert browser.post("/login", data={"token": server.admin_token, "csrf": csrf}
                            ).status_code in (200, 303)
        session = browser.cookies["tradehook_session"]
        meta = browser.get("/").text.split('<meta name="csrf-token" content="')[1].split('"')[0]
        assert browser.get("/api/signals").status_code == 200
        browser.post("/logout", data={"csrf": meta})
    replayed = httpx.get(f"{server.url}/api/signals", cookies={"tradehook_session": session})
    assert replayed.status_code == 401


def test_ready_tells_a_stranger_only_its_status(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/ready").json() == {"status": "ready"}
    detailed = server.admin_get("/ready").json()
    assert detailed["plugins"] == {"mock": True}


def test_the_journal_files_are_private(server: RunningServer) -> None:
    for name in ("tradehook.db", "tradehook.db-wal", "tradehook.db-shm"):
        path = server.workdir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


# -- [sources.signed] is honoured on POST /webhook -----------------------------------------


@pytest.mark.parametrize(("table", "error"), [
    ('[sources.signed]\nip_allowlist = ["192.0.2.0/24"]\n', "is not allowed"),
    ("[sources.signed]\nenabled = false\n", "is disabled"),
])
def test_the_signed_table_is_honoured(tmp_path: Path, table: str, error: str) -> None:
    running = start_server(tmp_path, config_toml=table)
    try:
        answer = httpx.post(f"{running.url}/webhook", content=BODY,
                            headers=signed_headers(running))
        stored = count_signals(running)
    finally:
        running.stop()
    assert answer.status_code == 403 and error in answer.json()["error"]
    assert stored == 0


def test_the_signed_tables_threshold_applies_to_signed_signals(tmp_path: Path) -> None:
    running = start_server(tmp_path, config_toml="[sources.signed]\nconfidence_threshold = 0.9\n")
    try:
        body = b"buy 0.1 BTC/USDT confidence 0.8"
        answer = httpx.post(f"{running.url}/webhook", content=body,
                            headers=signed_headers(running, body))
    finally:
        running.stop()
    assert answer.status_code == 200 and answer.json()["status"] == "filtered"
