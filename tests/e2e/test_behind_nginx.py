"""tradehook behind Debian's nginx, started on loopback with the repository's nginx.conf.

Loopback has the whole of 127.0.0.0/8, so the test plays several hosts: nginx reaches tradehook
from 127.0.0.1 (the trusted proxy), TradingView's stand-in connects from 127.0.0.5 (which the
source allows), and an attacker from 127.0.0.6.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import skip_unless_available
from tests.e2e.proxy_setup import NGINX, Certificates, RunningNginx, make_certificates, start_nginx
from tests.e2e.server import RunningServer, start_server
from webhook.auth.client_address import TRADINGVIEW_ADDRESSES
from webhook.auth.signatures import signature_headers

pytestmark = pytest.mark.e2e
ALLOWED, ATTACKER = "127.0.0.5", "127.0.0.6"
CONFIG = f"""
trusted_proxies = ["127.0.0.1"]
[sources.tv]
ip_allowlist = ["tradingview", "{ALLOWED}"]
[sources.certified]
require_tradingview_certificate = true
"""


@dataclass
class Stack:
    server: RunningServer
    nginx: RunningNginx
    certs: Certificates

    def url(self, source: str) -> str:
        done = self.server.run_cli("url", source, "--base", "https://127.0.0.1")
        assert done.returncode == 0, done.stderr
        return done.stdout.decode().strip()

    def proxied(self, url: str) -> str:
        return url.replace("https://127.0.0.1", f"https://127.0.0.1:{self.nginx.https_port}")

    def direct(self, url: str) -> str:
        return url.replace("https://127.0.0.1", self.server.url)

    def client(self, source_address: str = "127.0.0.1", cert: str | None = None) -> httpx.Client:
        context = ssl.create_default_context(cafile=self.certs.server_cert)
        if cert == "tradingview":
            context.load_cert_chain(self.certs.tradingview_cert, self.certs.tradingview_key)
        elif cert == "impostor":
            context.load_cert_chain(self.certs.impostor_cert, self.certs.impostor_key)
        elif cert == "crafted":
            context.load_cert_chain(self.certs.crafted_cert, self.certs.crafted_key)
        transport = httpx.HTTPTransport(verify=context, local_address=source_address)
        return httpx.Client(transport=transport, timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    skip_unless_available(NGINX is not None, "nginx is not installed (apt-get install nginx)")
    skip_unless_available(shutil.which("openssl") is not None, "openssl is not installed")
    folder = tmp_path_factory.mktemp("nginx")
    certs = make_certificates(folder / "certs")
    server = start_server(folder / "serve", config_toml=CONFIG)
    try:
        nginx = start_nginx(folder, certs, int(server.url.rsplit(":", 1)[1]))
    except BaseException:
        server.stop()
        raise
    yield Stack(server, nginx, certs)
    nginx.stop()
    server.stop()


def post(client: httpx.Client, url: str, body: bytes = b"buy 1 BTCUSDT",
         **headers: str) -> httpx.Response:
    return client.post(url, content=body, headers={"content-type": "text/plain", **headers})


def test_signed_alert_passes_through_nginx(stack: Stack) -> None:
    body = json.dumps({"symbol": "BTC/USDT", "side": "buy", "quantity": 0.1}).encode()
    headers = {**signature_headers(stack.server.secret, body), "content-type": "application/json"}
    with stack.client() as client:
        answer = client.post(
            f"https://127.0.0.1:{stack.nginx.https_port}/webhook", content=body, headers=headers
        )
    assert answer.status_code == 202, answer.text
    assert stack.server.wait_for_signal(answer.json()["signal_id"])["status"] == "filled"


def test_allowed_address_forwarded_by_the_trusted_proxy_is_admitted(stack: Stack) -> None:
    with stack.client(ALLOWED) as client:
        answer = post(client, stack.proxied(stack.url("tv")))
    assert answer.status_code == 202, answer.text


def test_other_address_through_the_proxy_is_refused_whatever_it_claims(stack: Stack) -> None:
    with stack.client(ATTACKER) as client:
        answer = post(client, stack.proxied(stack.url("tv")),
                      **{"x-forwarded-for": TRADINGVIEW_ADDRESSES[0]})
    assert answer.status_code == 403
    assert ATTACKER in answer.json()["error"]


def test_spoofed_forwarded_for_sent_straight_to_tradehook_is_refused(stack: Stack) -> None:
    for claimed in (TRADINGVIEW_ADDRESSES[0], ALLOWED):
        with stack.client(ATTACKER) as client:
            answer = post(client, stack.direct(stack.url("tv")), **{"x-forwarded-for": claimed})
        assert answer.status_code == 403, claimed


def test_tradingview_client_certificate_is_checked_by_subject(stack: Stack) -> None:
    url = stack.url("certified")
    with stack.client(cert="tradingview") as client:
        assert post(client, stack.proxied(url)).status_code == 202
    with stack.client(cert="impostor") as client:
        assert post(client, stack.proxied(url)).status_code == 403
    with stack.client(cert="crafted") as client:
        assert post(client, stack.proxied(url)).status_code == 403
    with stack.client() as client:
        assert post(client, stack.proxied(url)).status_code == 403
    with stack.client(ATTACKER) as client:
        forged = post(client, stack.direct(url), **{"x-tradingview-certificate": "verified"})
    assert forged.status_code == 403  # only the trusted proxy may say so


def test_proxy_limits_bodies_hides_metrics_and_redirects_http(stack: Stack) -> None:
    with stack.client(ALLOWED) as client:
        big = post(client, stack.proxied(stack.url("tv")), b"x" * (70 * 1024))
        metrics = client.get(f"https://127.0.0.1:{stack.nginx.https_port}/metrics")
        plain = client.get(f"http://127.0.0.1:{stack.nginx.http_port}/webhook")
    assert big.status_code == 413
    assert metrics.status_code == 404
    assert httpx.get(f"{stack.server.url}/metrics").status_code == 200
    assert plain.status_code == 308
    assert plain.headers["location"].startswith("https://")


def test_logs_hold_no_token_and_tag_lines_with_the_signal_id(stack: Stack) -> None:
    url = stack.url("tv")
    with stack.client(ALLOWED) as client:
        answer = post(client, stack.proxied(url), b"sell 1 ETHUSDT")
    signal_id = answer.json()["signal_id"]
    stack.server.wait_for_signal(signal_id)
    token = url.rsplit("/", 1)[1]
    secret_file = stack.server.workdir / "tradehook.secrets"
    for text in (stack.server.log, stack.nginx.access_log):
        assert token not in text
        assert stack.server.admin_token not in text
        assert str(stack.server.secret) not in text
    assert "/webhook/[token]" in stack.nginx.access_log
    lines = [json.loads(line) for line in stack.server.log.splitlines() if line.startswith("{")]
    about = [line for line in lines if signal_id in line["message"]]
    assert len(about) >= 2  # decided, then executed
    assert all(line.get("signal_id") == signal_id for line in about)
    assert not secret_file.exists() or token not in secret_file.read_text(encoding="utf-8")


def test_nginx_config_checks_with_the_shipped_paths_swapped(stack: Stack) -> None:
    assert NGINX is not None
    done = subprocess.run(
        [NGINX, "-t", "-p", str(stack.nginx.folder), "-c", str(stack.nginx.folder / "main.conf"),
         "-e", str(stack.nginx.folder / "error-t.log")],
        capture_output=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    site = Path(stack.nginx.folder / "site.conf").read_text(encoding="utf-8")
    assert site.count("proxy_set_header") >= 5


def test_dashboard_through_the_proxy_gets_secure_cookies_and_passes_csrf(stack: Stack) -> None:
    base = f"https://127.0.0.1:{stack.nginx.https_port}"
    with stack.client() as client:
        page = client.get(f"{base}/")
        assert "secure" in page.headers["set-cookie"].lower()  # X-Forwarded-Proto: https
        form = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert form is not None
        login = client.post(f"{base}/login", data={"token": stack.server.admin_token,
                                                   "csrf": form.group(1)})
        assert login.status_code == 303
        assert "secure" in login.headers["set-cookie"].lower()
        meta = re.search(r'name="csrf-token" content="([^"]+)"', client.get(f"{base}/").text)
        assert meta is not None
        origin = {"origin": base, "x-csrf-token": meta.group(1)}
        state = client.get(f"{base}/api/kill-switch").json()
        assert client.post(f"{base}/api/kill-switch", json={"engaged": False},
                           headers=origin).status_code == 200
    assert state["engaged"] is False
