"""tradehook behind Debian's Caddy with the repository's Caddyfile: `caddy validate` is in
tests/deploy; here it runs, with the site address, certificate and client CA swapped for test
ones, to show that the TradingView certificate check and the other limits work."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import skip_unless_available
from tests.e2e.proxy_setup import DEPLOY, Certificates, free_port, make_certificates
from tests.e2e.server import RunningServer, start_server

pytestmark = pytest.mark.e2e
CONFIG = """
trusted_proxies = ["127.0.0.1"]
[sources.certified]
require_tradingview_certificate = true
"""


def _swap(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy/Caddyfile no longer contains {old!r}"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str,
                                                                          Certificates]]:
    caddy = shutil.which("caddy")
    skip_unless_available(caddy is not None, "caddy is not installed (apt-get install caddy)")
    skip_unless_available(shutil.which("openssl") is not None, "openssl is not installed")
    assert caddy is not None
    folder = tmp_path_factory.mktemp("caddy")
    certs = make_certificates(folder / "certs")
    server = start_server(folder / "serve", config_toml=CONFIG)
    port = free_port()
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    # A name, not an address: with client authentication on, Caddy wants SNI to match Host.
    text = _swap(text, "{$TRADEHOOK_DOMAIN:hooks.example.com} {",
                 f"https://localhost:{port} {{\n\tbind 127.0.0.1")
    text = _swap(text, "\ttls {\n", f"\ttls {certs.server_cert} {certs.server_key} {{\n")
    text = _swap(text, "trusted_ca_cert_file /etc/ssl/certs/ca-certificates.crt",
                 f"trusted_ca_cert_file {certs.client_ca}")
    (folder / "Caddyfile").write_text("{\n\tadmin off\n\tauto_https off\n}\n" + text,
                                      encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "XDG_DATA_HOME": str(folder / "data"),
           "XDG_CONFIG_HOME": str(folder / "config"),
           "TRADEHOOK_UPSTREAM": server.url.removeprefix("http://")}
    with (folder / "caddy.log").open("wb") as log:
        process = subprocess.Popen(
            [caddy, "run", "--config", str(folder / "Caddyfile"), "--adapter", "caddyfile"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(process, port, folder / "caddy.log")
        yield server, f"https://localhost:{port}", certs
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.stop()


def _wait_for_port(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while True:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.05)


def client(certs: Certificates, cert: str | None = None) -> httpx.Client:
    context = ssl.create_default_context(cafile=certs.server_cert)
    if cert == "tradingview":
        context.load_cert_chain(certs.tradingview_cert, certs.tradingview_key)
    elif cert == "impostor":
        context.load_cert_chain(certs.impostor_cert, certs.impostor_key)
    elif cert == "crafted":
        context.load_cert_chain(certs.crafted_cert, certs.crafted_key)
    return httpx.Client(verify=context, timeout=10)


def test_tradingview_certificate_is_checked_by_subject_through_caddy(
    running: tuple[RunningServer, str, Certificates],
) -> None:
    server, base, certs = running
    url = server.run_cli("url", "certified", "--base", base).stdout.decode().strip()
    answers = {}
    for cert in ("tradingview", "impostor", "crafted", None):
        with client(certs, cert) as session:
            answers[cert] = session.post(url, content=b"buy 1 BTCUSDT",
                                         headers={"content-type": "text/plain"}).status_code
    assert answers == {"tradingview": 202, "impostor": 403, "crafted": 403, None: 403}


def test_caddy_hides_metrics_and_refuses_large_bodies(
    running: tuple[RunningServer, str, Certificates],
) -> None:
    server, base, certs = running
    url = server.run_cli("url", "certified", "--base", base).stdout.decode().strip()
    before = len(server.admin_get("/api/signals").json()["signals"])
    with client(certs, "tradingview") as session:
        assert session.get(f"{base}/metrics").status_code == 404
        big = session.post(url, content=b"buy 1 BTCUSDT " + b"x" * (70 * 1024),
                           headers={"content-type": "text/plain"})
    # Debian's Caddy 2.6 answers 502 when request_body's limit stops the upload.
    assert big.status_code in (413, 502)
    assert len(server.admin_get("/api/signals").json()["signals"]) == before
