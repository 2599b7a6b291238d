"""Run the real `tradehook serve` process for end-to-end tests, and talk to it as a user would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from webhook.auth.signatures import WebhookSecret, signature_headers

TERMINAL = {"filled", "partially_filled", "placed", "failed", "cancelled", "unknown", "expired"}
# base64 of "test-secret-for-tradehook-e2e"
TEST_SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXRyYWRlaG9vay1lMmU="
TEST_ADMIN_TOKEN = "admin-token-for-tests-7f3c9e1a5b"


def tradehook_command() -> str:
    """The `tradehook` console script installed next to this interpreter."""
    return str(Path(sys.executable).with_name("tradehook"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    url: str
    workdir: Path
    log_path: Path
    secret: WebhookSecret
    admin_token: str
    env: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def post_signed(
        self, body: bytes | str, *, content_type: str = "text/plain", **header_overrides: str
    ) -> httpx.Response:
        raw = body.encode() if isinstance(body, str) else body
        headers = signature_headers(self.secret, raw)
        headers["content-type"] = content_type
        headers.update({k.replace("_", "-"): v for k, v in header_overrides.items()})
        return httpx.post(f"{self.url}/webhook", content=raw, headers=headers, timeout=10)

    def filled(self, order: dict[str, Any]) -> str:
        """Post `order` as a signed native signal; its id, once it is filled."""
        answer = self.post_signed(json.dumps(order), content_type="application/json")
        assert answer.status_code == 202, answer.text
        signal_id: str = answer.json()["signal_id"]
        assert self.wait_for_signal(signal_id)["status"] == "filled"
        return signal_id

    def admin_get(self, path: str, **params: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.admin_token}"}
        return httpx.get(f"{self.url}{path}", headers=headers, params=params, timeout=10)

    def signal(self, signal_id: str) -> dict[str, Any]:
        response = self.admin_get(f"/api/signals/{signal_id}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_for_signal(
        self, signal_id: str, statuses: Iterable[str] = TERMINAL, timeout: float = 15.0
    ) -> dict[str, Any]:
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            record = self.signal(signal_id)
            if record["status"] in wanted:
                return record
            if time.monotonic() > deadline:
                raise AssertionError(f"signal {signal_id} stayed {record['status']}: {record}")
            time.sleep(0.05)

    def run_cli(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run the installed `tradehook` command with this server's environment and folder."""
        return subprocess.run(
            [tradehook_command(), *args],
            input=stdin, capture_output=True, cwd=self.workdir, env=self.env, timeout=30,
            check=False,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace", encoding="utf-8")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_server(
    workdir: Path,
    *,
    config_toml: str | None = None,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    with_secrets: bool = True,
    timeout: float = 60.0,
) -> RunningServer:
    """Start `tradehook serve` in `workdir` and wait until it answers /health."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEHOOK_")}
    if with_secrets:
        full_env.update(TRADEHOOK_SECRET=TEST_SECRET, TRADEHOOK_ADMIN_TOKEN=TEST_ADMIN_TOKEN)
    full_env.update(env or {})
    args = [tradehook_command(), "serve", "--port", str(port)]
    if config_toml is not None:
        config_path = workdir / "tradehook.toml"
        config_path.write_text(config_toml, encoding="utf-8")
        args += ["--config", str(config_path)]
    log_path = workdir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, cwd=workdir, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"tradehook serve exited with {process.returncode}:\n"
                               + log_path.read_text(errors="replace", encoding="utf-8"))
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("tradehook serve did not start:\n"
                               + log_path.read_text(encoding="utf-8"))
        time.sleep(0.05)
    secrets = _read_secrets(workdir, full_env)
    return RunningServer(
        process=process, url=url, workdir=workdir, log_path=log_path,
        secret=WebhookSecret.parse(secrets["TRADEHOOK_SECRET"].replace(",", " ").split()[0]),
        admin_token=secrets["TRADEHOOK_ADMIN_TOKEN"], env=full_env,
    )


def _read_secrets(workdir: Path, env: Mapping[str, str]) -> dict[str, str]:
    found = {k: v for k, v in env.items() if k in ("TRADEHOOK_SECRET", "TRADEHOOK_ADMIN_TOKEN")}
    secrets_file = workdir / "tradehook.secrets"
    if secrets_file.is_file():
        for line in secrets_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), value.strip())
    return found


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)


def killed_and_restarted(
    first: RunningServer, config: str, env: Mapping[str, str], signal_id: str
) -> dict[str, Any]:
    """kill -9 the server, start it again on its folder and port, and return the signal once
    the restarted server has finished it."""
    first.kill()
    port = int(first.url.rsplit(":", 1)[1])
    second = start_server(first.workdir, config_toml=config, env=env, port=port)
    try:
        return second.wait_for_signal(signal_id, timeout=40)
    finally:
        second.stop()
