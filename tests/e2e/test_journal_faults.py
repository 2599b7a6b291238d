"""The journal's own faults: a SQLite disk that fills up, and a PostgreSQL connection cut for
a while. While the journal cannot store, receivers answer 503 and nothing is
acknowledged; afterwards everything resumes without a restart, and every acknowledged signal
ends with exactly one order."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.conftest import skip_unless_available
from tests.e2e.delivery import (
    CREDENTIALS,
    doubled,
    exchange_config,
    journal_signals,
    native_signal,
    orders_per_client_id,
    rich_exchange,
    wait_for,
    wait_until_settled,
)
from tests.e2e.server import RunningServer, start_server
from tests.e2e.tcp_proxy import TcpProxy
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import signature_headers

pytestmark = pytest.mark.e2e
DISK_BYTES = 16 * 1024 * 1024
"""Room for SQLite's write-ahead log to reach its checkpoint size (1000 pages, 4 MiB)."""


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted at `path` (needs root, as in CI's container)."""
    path.mkdir(parents=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(path)],
        capture_output=True, check=False,
    ).returncode == 0
    skip_unless_available(mounted, "mounting a small tmpfs needs root (and CAP_SYS_ADMIN)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; return it (delete it to free the room)."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (64 * 1024, 512):  # then the last scraps
            with contextlib.suppress(OSError):
                for _ in range(DISK_BYTES // chunk):
                    os.write(descriptor, b"\0" * chunk)
    finally:
        os.close(descriptor)
    return filler


def post(server: RunningServer, number: int) -> httpx.Response:
    """Signal `number`, under its own webhook id: sent again, it is the same signal."""
    body = f"buy 1 BTCUSDT comment disk-{number}".encode()
    headers = signature_headers(server.secret, body, msg_id=f"disk-{number}")
    headers["content-type"] = "text/plain"
    return httpx.post(f"{server.url}/webhook", content=body, headers=headers, timeout=10)


def serve_on(workdir: Path, journal: Path) -> RunningServer:
    return start_server(workdir, env={"TRADEHOOK_JOURNAL": f"sqlite:///{journal}"})


def ready_status(server: RunningServer) -> int:
    return httpx.get(f"{server.url}/ready", timeout=10).status_code


def test_sqlite_on_a_full_disk_answers_503_loses_nothing_and_recovers_when_freed(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        journal = disk / "journal.db"
        server = serve_on(tmp_path / "serve", journal)
        acknowledged: dict[int, str] = {}
        try:
            for number in range(5):
                answer = post(server, number)
                assert answer.status_code == 202, answer.text
                acknowledged[number] = answer.json()["signal_id"]
            filler = fill(disk)
            refused = []
            for number in range(5, 45):
                answer = post(server, number)
                assert answer.status_code in (202, 503), answer.text
                if answer.status_code == 202:
                    acknowledged[number] = answer.json()["signal_id"]
                else:
                    refused.append(number)
                    assert "signal_id" not in answer.text
            assert len(refused) >= 30, f"only {len(refused)} refused while the disk was full"
            assert ready_status(server) == 503  # a load balancer sees it too
            filler.unlink()
            wait_for(lambda: ready_status(server) == 200, "the journal to be back", 15)
            for number in refused:  # what TradingView does after a 5xx: send again
                answer = post(server, number)
                assert answer.status_code == 202, answer.text
                acknowledged[number] = answer.json()["signal_id"]
            wait_until_settled(server, timeout=60)
            stored = {s["id"]: s["status"] for s in journal_signals(server)}
            assert server.alive()
        finally:
            server.stop()
        with sqlite3.connect(journal) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert len(acknowledged) == 45
    assert set(acknowledged.values()) <= set(stored)
    assert {stored[i] for i in acknowledged.values()} == {"filled"}


CLIENTS = 4
BEFORE_CUT, CUT, AFTER_CUT = 3.0, 10.0, 4.0


@contextlib.contextmanager
def proxied_postgres() -> Iterator[tuple[str, TcpProxy]]:
    """A scratch PostgreSQL journal reached through a cuttable proxy: (its URL, the proxy)."""
    with scratch_schema() as url:
        parts = urlsplit(url)
        with TcpProxy(parts.port or 5432, parts.hostname or "127.0.0.1") as proxy:
            netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else \
                f"127.0.0.1:{proxy.port}"
            yield urlunsplit(parts._replace(netloc=netloc)), proxy


def start_role(workdir: Path, config: str, journal: str, *, executes: bool) -> RunningServer:
    env = {**CREDENTIALS, "TRADEHOOK_JOURNAL": journal,
           "TRADEHOOK_EXECUTION__ENABLED": "true" if executes else "false"}
    return start_server(workdir, config_toml=config, env=env, timeout=60)


def send_until_acknowledged(
    receivers: list[RunningServer], client: int, stop_at: float
) -> tuple[dict[str, str], int]:
    """Post new signals until `stop_at`, each sent again after a 503 (as TradingView does) until
    a receiver stores it: (webhook id -> signal id, 503s met)."""
    acknowledged: dict[str, str] = {}
    unavailable = 0
    number = 0
    with httpx.Client(timeout=10) as http:
        while time.monotonic() < stop_at:
            number += 1
            webhook_id = f"cut-{client}-{number}"
            body = native_signal(number * CLIENTS + client, webhook_id, "desk", priced=True)
            for attempt in range(200):  # bounded: about a minute of resending
                receiver = receivers[(number + attempt) % len(receivers)]
                headers = signature_headers(receiver.secret, body, msg_id=webhook_id)
                headers["content-type"] = "application/json"
                try:
                    answer = http.post(f"{receiver.url}/webhook", content=body, headers=headers)
                except httpx.TransportError:
                    time.sleep(0.3)
                    continue
                if answer.status_code == 503:
                    unavailable += 1
                    assert "signal_id" not in answer.text
                    time.sleep(0.3)
                    continue
                assert answer.status_code in (200, 202), answer.text
                acknowledged[webhook_id] = answer.json()["signal_id"]
                break
            else:
                raise AssertionError(f"{webhook_id} was never stored")
            time.sleep(0.02)
    return acknowledged, unavailable


def test_postgres_cut_for_ten_seconds_under_load_loses_nothing_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    exchange = rich_exchange()
    try:
        with proxied_postgres() as (journal, proxy):
            config = exchange_config(exchange, ["desk"], execution="poll_interval = 0.2")
            roles = [("receiver1", False), ("receiver2", False), ("executor1", True),
                     ("executor2", True)]
            with ThreadPoolExecutor(len(roles)) as pool:  # four starts at once
                servers = list(pool.map(lambda role: start_role(
                    tmp_path / role[0], config, journal, executes=role[1]), roles))
            receivers, executors = servers[:2], servers[2:]
            try:
                start = time.monotonic()
                stop_at = start + BEFORE_CUT + CUT + AFTER_CUT
                with ThreadPoolExecutor(CLIENTS) as pool:
                    sending = [pool.submit(send_until_acknowledged, receivers, n, stop_at)
                               for n in range(CLIENTS)]
                    time.sleep(BEFORE_CUT)
                    proxy.cut()
                    time.sleep(CUT)
                    ready_during_cut = [ready_status(r) for r in receivers]
                    proxy.restore()
                    results = [future.result() for future in sending]
                wait_until_settled(receivers[0], timeout=90)
                stored = journal_signals(receivers[0])
                alive = [server.alive() for server in receivers + executors]
            finally:
                for server in receivers + executors:
                    server.stop()
    finally:
        exchange.stop()
    acknowledged = {k: v for part, _ in results for k, v in part.items()}
    unavailable = sum(count for _, count in results)
    assert all(alive), "no process died of the cut"
    assert unavailable > 0, "the receivers answered 503 while the journal was cut"
    assert ready_during_cut == [503, 503]
    assert len(acknowledged) > 100
    statuses = {s["id"]: s["status"] for s in stored}
    assert {statuses[i] for i in acknowledged.values()} == {"filled"}
    orders = orders_per_client_id(exchange)
    assert doubled(orders) == {}
    assert set(orders) == set(acknowledged.values()), "one order per acknowledged signal"
