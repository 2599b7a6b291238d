"""Scale-out: two receivers and two executors, four processes, on one PostgreSQL journal."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.delivery import (
    CREDENTIALS,
    doubled,
    exchange_config,
    journal_signals,
    native_signal,
    orders_per_client_id,
    rich_exchange,
    wait_until_settled,
)
from tests.e2e.server import RunningServer, start_server
from tests.fakes.binance import FakeBinance
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import signature_headers

pytestmark = pytest.mark.e2e
SIGNALS = 5_000
CLIENTS = 8
ACCOUNTS = ("desk1", "desk2", "desk3", "desk4")


@pytest.fixture
def exchange() -> Iterator[FakeBinance]:
    fake = rich_exchange()
    yield fake
    fake.stop()


@pytest.fixture
def postgres_journal() -> Iterator[str]:
    with scratch_schema() as url:
        yield url


def start_role(workdir: Path, config: str, journal: str, *, executes: bool) -> RunningServer:
    env = {**CREDENTIALS, "TRADEHOOK_JOURNAL": journal,
           "TRADEHOOK_EXECUTION__ENABLED": "true" if executes else "false"}
    return start_server(workdir, config_toml=config, env=env)


def test_two_receivers_and_two_executors_lose_nothing_double_nothing_and_keep_order(
    tmp_path: Path, exchange: FakeBinance, postgres_journal: str
) -> None:
    config = exchange_config(exchange, ACCOUNTS, execution="poll_interval = 0.2")
    receivers = [start_role(tmp_path / f"receiver{n}", config, postgres_journal, executes=False)
                 for n in (1, 2)]
    executors = [start_role(tmp_path / f"executor{n}", config, postgres_journal, executes=True)
                 for n in (1, 2)]
    servers = receivers + executors
    try:
        sent = send_from_several_clients(receivers)
        assert len(sent) == SIGNALS  # every signal acknowledged
        wait_until_settled(receivers[0], timeout=240)

        stored = journal_signals(receivers[0])
        assert len(stored) == SIGNALS
        assert {s["status"] for s in stored} == {"filled"}
        orders = orders_per_client_id(exchange)
        assert doubled(orders) == {}
        assert set(orders) == {signal_id for signal_id, _ in sent.values()}

        # Each client sent its signals one after another: per plugin and symbol, the exchange
        # saw them in that order, whichever executor ran them.
        arrival = {order.client_order_id: n for n, order in enumerate(exchange.orders)}
        for lane in lanes_by_client(sent).values():
            positions = [arrival[signal_id] for signal_id in lane]
            assert positions == sorted(positions)
        # A lane stays with the executor that ran its last signal (the journal hands the next
        # one on to it), so which executors took part depends on who claimed each lane first:
        # at least one did, and nothing above depends on which.
        assert any("attempt 1 result" in executor.log for executor in executors)
        for receiver in receivers:
            assert "attempt 1" not in receiver.log  # receivers only store
    finally:
        for server in servers:
            server.stop()


def send_from_several_clients(receivers: list[RunningServer]) -> dict[int, tuple[str, str]]:
    """Each client posts its share one at a time, alternating between the receivers; returns
    signal number -> (signal id, lane) for every acknowledged signal."""

    def client(first: int) -> dict[int, tuple[str, str]]:
        acknowledged = {}
        with httpx.Client(timeout=30) as http:
            for number in range(first, SIGNALS, CLIENTS):
                receiver = receivers[number % len(receivers)]
                plugin = ACCOUNTS[(number // 3) % len(ACCOUNTS)]
                webhook_id = f"scale-{number}"
                body = native_signal(number, webhook_id, plugin, priced=True)
                headers = signature_headers(receiver.secret, body, msg_id=webhook_id)
                headers["content-type"] = "application/json"
                answer = http.post(f"{receiver.url}/webhook", content=body, headers=headers)
                assert answer.status_code == 202, answer.text
                symbol = str(json.loads(body)["symbol"])
                acknowledged[number] = (answer.json()["signal_id"], f"{plugin}/{symbol}")
        return acknowledged

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = pool.map(client, range(CLIENTS))
    return {number: sent for part in results for number, sent in part.items()}


def lanes_by_client(sent: dict[int, tuple[str, str]]) -> dict[tuple[int, str], list[str]]:
    lanes: dict[tuple[int, str], list[str]] = defaultdict(list)
    for number in sorted(sent):
        signal_id, lane = sent[number]
        lanes[(number % CLIENTS, lane)].append(signal_id)
    return lanes
