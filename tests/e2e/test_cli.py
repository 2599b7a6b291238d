"""The `tradehook` command, run as installed, against a running server."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import httpx

from tests.conftest import skip_unless_available
from tests.e2e.server import RunningServer, start_server
from webhook.auth.signatures import verify_signature


def test_send_signs_posts_and_prints_the_answer(server: RunningServer) -> None:
    done = server.run_cli("send", "--url", f"{server.url}/webhook", "sell 0.5 ETH/USDT")
    assert done.returncode == 0, done.stderr
    status, _, body = done.stdout.decode().partition(" ")
    assert status == "202"
    assert '"status":"queued"' in body


def test_send_reads_a_body_from_a_file(server: RunningServer, tmp_path: Path) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text('{"symbol": "BTC/USDT", "side": "buy", "quantity": 0.2}', encoding="utf-8")
    done = server.run_cli("send", "--url", f"{server.url}/webhook", f"@{alert}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"202 ")


def test_send_exits_nonzero_on_a_refused_signal(server: RunningServer) -> None:
    done = server.run_cli("send", "--url", f"{server.url}/webhook", "buy -1 BTC/USDT")
    assert done.returncode == 1
    assert done.stdout.startswith(b"400 ")


def test_send_with_a_wrong_secret_is_refused(server: RunningServer) -> None:
    wrong = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    done = server.run_cli("send", "--url", f"{server.url}/webhook", "--secret", wrong, "buy 1 X")
    assert done.returncode == 1
    assert done.stdout.startswith(b"401 ")


def test_send_says_when_the_server_is_unreachable(server: RunningServer) -> None:
    done = server.run_cli("send", "--url", "http://127.0.0.1:9/webhook", "buy 1 X")
    assert done.returncode == 2
    assert b"cannot reach" in done.stderr


def test_sign_prints_headers_that_curl_can_send(server: RunningServer) -> None:
    body = b"buy 0.1 BTC/USDT"
    done = server.run_cli("sign", "--id", "msg_from_curl", stdin=body)
    assert done.returncode == 0, done.stderr
    headers = dict(line.split(": ", 1) for line in done.stdout.decode().splitlines())
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "msg_from_curl"
    assert verify_signature([server.secret], headers, body) == "msg_from_curl"
    answer = httpx.post(f"{server.url}/webhook", content=body,
                        headers={**headers, "content-type": "text/plain"})
    assert answer.status_code == 202


def test_url_prints_a_working_tradingview_url(server: RunningServer) -> None:
    done = server.run_cli("url", "tradingview", "--base", "https://hooks.example.com")
    assert done.returncode == 0
    url = done.stdout.decode().strip()
    assert url.startswith("https://hooks.example.com/webhook/")
    local = url.replace("https://hooks.example.com", server.url)
    answer = httpx.post(local, content=b"buy 1 ES1!", headers={"content-type": "text/plain"})
    assert answer.status_code == 202


def test_url_for_an_unknown_source_fails_naming_it(server: RunningServer) -> None:
    done = server.run_cli("url", "nosuch")
    assert done.returncode == 2
    assert b"sources.nosuch" in done.stderr


def test_signals_shows_the_journal_as_a_table(server: RunningServer) -> None:
    server.post_signed("buy 3 SOLUSDT")
    done = server.run_cli("signals", "--limit", "50")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[0].split()[:4] == ["ID", "RECEIVED", "(UTC)", "SOURCE"]
    assert any("SOLUSDT" in line for line in lines[1:])


def test_serve_with_no_configuration_makes_secrets_and_its_printed_command_works(
    tmp_path: Path,
) -> None:
    running = start_server(tmp_path, with_secrets=False)
    try:
        secrets_file = tmp_path / "tradehook.secrets"
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        assert (tmp_path / "tradehook.db").is_file()
        printed = re.search(r"^  (.* send .*)$", running.log, re.MULTILINE)
        assert printed is not None, running.log
        done = subprocess.run(
            ["bash", "-c", printed.group(1)], capture_output=True, env=running.env,
            cwd="/", timeout=30, check=False,
        )
        assert done.returncode == 0, done.stderr
        signal_id = re.search(rb'"signal_id":"(\w+)"', done.stdout)
        assert signal_id is not None
        record = running.wait_for_signal(signal_id.group(1).decode())
        assert record["status"] == "filled"
        assert record["result"]["order_id"].startswith("MOCK-")
        secrets = secrets_file.read_text(encoding="utf-8")
        token = secrets.split("TRADEHOOK_ADMIN_TOKEN=")[1].split()[0]
        assert token not in running.log
        # Not a terminal: the source URL (a credential) is not logged, only how to print it.
        assert "/webhook/" not in running.log.replace(f"{running.url}/webhook ", "")
        assert "url tradingview" in running.log
        printed_url = running.run_cli("url", "tradingview", "--base", running.url)
        assert printed_url.returncode == 0, printed_url.stderr
        answer = httpx.post(printed_url.stdout.decode().strip(), content=b"sell 1 EURUSD",
                            headers={"content-type": "text/plain"})
        assert answer.status_code == 202
    finally:
        running.stop()


def test_readme_curl_recipe_with_sign_headers_is_accepted(
    server: RunningServer, tmp_path: Path
) -> None:
    skip_unless_available(shutil.which("curl") is not None, "curl is not installed")
    body = "sell 2 ES limit 5000 sl 5010 tp 4980 confidence 0.8"
    headers = tmp_path / "headers.txt"
    headers.write_bytes(server.run_cli("sign", stdin=body.encode()).stdout)
    done = subprocess.run(
        ["curl", "-s", f"{server.url}/webhook", "-H", "content-type: text/plain",
         "-H", f"@{headers}", "--data-binary", body],
        capture_output=True, check=False, timeout=30,
    )
    assert done.returncode == 0
    assert b'"status":"queued"' in done.stdout
