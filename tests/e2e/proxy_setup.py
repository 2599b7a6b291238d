"""Test certificates (openssl) and nginx, run on loopback with the repository's nginx.conf."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.server import free_port

DEPLOY = Path(__file__).parents[2] / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
TRADINGVIEW_SUBJECT = "/C=US/ST=Ohio/L=Westerville/O=TradingView, Inc./CN=TradingView Webhooks"


@dataclass(frozen=True)
class Certificates:
    server_cert: Path
    server_key: Path
    client_ca: Path
    tradingview_cert: Path
    tradingview_key: Path
    impostor_cert: Path
    impostor_key: Path
    crafted_cert: Path
    """TradingView's organisation smuggled into another field: CN=x\\,O=TradingView\\, Inc.,
    O=Mallory (a subject check that only looks for `O=TradingView, Inc.` is fooled by it)."""
    crafted_key: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


def make_certificates(folder: Path) -> Certificates:
    """A self-signed server certificate for 127.0.0.1, and a test CA with two client
    certificates: one with TradingView's subject, one an impostor's."""
    folder.mkdir(parents=True, exist_ok=True)
    server_key, server_cert = folder / "server.key", folder / "server.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout",
             server_key, "-out", server_cert, "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
    ca_key, ca_cert = folder / "ca.key", folder / "ca.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", ca_key,
             "-out", ca_cert, "-subj", "/CN=tradehook test client CA")
    made = []
    for name, subject in (("tradingview", TRADINGVIEW_SUBJECT),
                          ("impostor", "/O=TradingView Fans/CN=TradingView, Inc."),
                          ("crafted", "/O=Mallory/CN=x,O=TradingView, Inc.")):
        key, request, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
                 "-subj", subject)
        _openssl("x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey", ca_key,
                 "-CAcreateserial", "-days", "2", "-out", cert)
        made += [cert, key]
    return Certificates(server_cert, server_key, ca_cert, *made)


def _swap(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy/nginx.conf no longer contains {old!r}"
    return text.replace(old, new)


@dataclass
class RunningNginx:
    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    folder: Path

    @property
    def access_log(self) -> str:
        path = self.folder / "access.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_nginx(folder: Path, certs: Certificates, upstream_port: int) -> RunningNginx:
    """nginx with deploy/nginx.conf, only its ports, certificates and log path swapped."""
    assert NGINX is not None
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("/etc/letsencrypt/live/hooks.example.com/fullchain.pem", str(certs.server_cert)),
        ("/etc/letsencrypt/live/hooks.example.com/privkey.pem", str(certs.server_key)),
        ("ssl_client_certificate /etc/ssl/certs/ca-certificates.crt;",
         f"ssl_client_certificate {certs.client_ca};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("/var/log/nginx/tradehook.access.log", str(folder / "access.log")),
    ):
        site = _swap(site, old, new)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = folder / "temp"
    temp.mkdir(exist_ok=True)
    paths = "".join(f"    {kind}_temp_path {temp / kind};\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test folder
    (folder / "main.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n{paths}    include {folder / 'site.conf'};\n}}\n"
    , encoding="utf-8")
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "main.conf"),
         "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"nginx exited: {error}")
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
            return RunningNginx(process, http_port, https_port, folder)
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
