"""Exactly once through `kill -9`: 2,000 signed signals from concurrent clients reach a real
`tradehook serve` trading on the fake Binance exchange, the server is killed and started again
on the same port and folder, and every signal it acknowledged becomes exactly one order.

The fake checks client order ids as Binance does, only against open orders: a market order
fills at once, so a signal sent twice would be two orders there. Orders are counted by client
order id, which is the signal id.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.delivery import (
    doubled,
    exchange_config,
    full_records,
    journal_signals,
    native_signal,
    orders_per_client_id,
    rich_exchange,
    start_tradehook,
    wait_for,
    wait_until_settled,
)
from tests.e2e.server import RunningServer
from tests.fakes.binance import FakeBinance
from webhook.auth.signatures import WebhookSecret, signature_headers

pytestmark = pytest.mark.e2e

SIGNALS = 2000
CLIENTS = 8
ACCOUNTS = ("binance_a", "binance_b", "binance_c", "binance_d")
"""Four plugins on the one fake account, three markets each: twelve lanes run at once."""


@dataclass
class Answer:
    status: int | None
    """None: no answer, the server died while the request was open or was down."""
    signal_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)


class Barrage:
    """Signed signals posted by several concurrent clients. A request that gets no answer
    (the server died) is left unanswered, and its client waits until `up` is set again before
    it goes on with its next signal."""

    def __init__(self, url: str, secret: WebhookSecret, signals: dict[str, bytes]) -> None:
        self.url = url
        self.secret = secret
        self.signals = signals
        self.answers: dict[str, Answer] = {}
        self.acknowledged = 0
        self.up = threading.Event()
        self.up.set()
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._pool = ThreadPoolExecutor(CLIENTS)
        self._clients: list[Future[None]] = []

    def start(self) -> None:
        ids = list(self.signals)
        self._clients = [self._pool.submit(self._send, ids[k::CLIENTS]) for k in range(CLIENTS)]

    def wait_for_acknowledged(self, count: int, timeout: float = 60.0) -> None:
        with self._progress:
            if not self._progress.wait_for(lambda: self.acknowledged >= count, timeout):
                raise AssertionError(f"only {self.acknowledged} of {count} acknowledged")

    def join(self, timeout: float = 60.0) -> None:
        for client in self._clients:
            client.result(timeout)
        self._pool.shutdown()

    def post(self, client: httpx.Client, webhook_id: str) -> Answer:
        body = self.signals[webhook_id]
        headers = signature_headers(self.secret, body, msg_id=webhook_id)
        headers["content-type"] = "application/json"
        answer = client.post("/webhook", content=body, headers=headers)
        payload: dict[str, Any] = answer.json()
        return Answer(answer.status_code, payload.get("signal_id"), payload)

    def _send(self, webhook_ids: list[str]) -> None:
        client = httpx.Client(base_url=self.url, timeout=10)
        try:
            for webhook_id in webhook_ids:
                try:
                    answer = self.post(client, webhook_id)
                except httpx.TransportError:
                    answer = Answer(None)
                    client.close()
                    if not self.up.wait(timeout=60):
                        raise AssertionError("the server did not come back") from None
                    client = httpx.Client(base_url=self.url, timeout=10)
                with self._progress:
                    self.answers[webhook_id] = answer
                    if answer.status is not None and answer.status < 300:
                        self.acknowledged += 1
                        self._progress.notify_all()
        finally:
            client.close()


@pytest.fixture
def exchange() -> Iterator[FakeBinance]:
    fake = rich_exchange()
    yield fake
    fake.stop()


@pytest.fixture
def servers() -> Iterator[list[RunningServer]]:
    """Every server a test starts, stopped at the end whatever happened."""
    running: list[RunningServer] = []
    yield running
    for server in running:
        server.stop()


def signals() -> dict[str, bytes]:
    webhook_ids = [f"crash-{n:04d}" for n in range(SIGNALS)]
    return {
        webhook_id: native_signal(n, webhook_id, ACCOUNTS[(n // 3) % len(ACCOUNTS)])
        for n, webhook_id in enumerate(webhook_ids)
    }


def kill_and_restart(server: RunningServer, config: str) -> RunningServer:
    """kill -9, then the same command on the same port and folder (so the same journal and the
    same executor name, which takes its leases back at once)."""
    server.kill()
    server.log_path.rename(server.log_path.with_suffix(".killed.log"))
    port = int(server.url.rsplit(":", 1)[1])
    return start_tradehook(server.workdir, config, port=port)


def check_exactly_once(
    server: RunningServer, exchange: FakeBinance, answers: dict[str, Answer]
) -> dict[str, dict[str, Any]]:
    """Every acknowledged signal is in the journal, final and filled, with exactly one order at
    the exchange; an unanswered one is stored once or not at all, and if stored, it is
    executed exactly once too; the exchange holds no order the journal does not know.
    Returns the journal's signals by webhook id."""
    stored: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in journal_signals(server):
        stored[record["order"]["comment"]].append(record)
    orders = orders_per_client_id(exchange)
    journal_ids = {record["id"] for records in stored.values() for record in records}

    stored_twice = {k: [r["id"] for r in v] for k, v in stored.items() if len(v) > 1}
    wrong_answers = {k: (a.status, a.body) for k, a in answers.items()
                     if a.status is not None and a.status != 202}
    missing = [k for k, a in answers.items() if a.status is not None and k not in stored]
    mismatched = [k for k, a in answers.items()
                  if a.status is not None and k in stored and stored[k][0]["id"] != a.signal_id]
    records = {k: v[0] for k, v in stored.items()}
    not_filled = {k: (r["status"], r["error"]) for k, r in records.items()
                  if r["status"] != "filled"}
    without_order = [k for k, r in records.items() if orders[r["id"]] != 1]
    strangers = sorted(set(orders) - journal_ids)

    assert not stored_twice, f"one webhook id stored as several signals: {stored_twice}"
    assert not wrong_answers, f"answers other than 202 queued: {wrong_answers}"
    assert not missing, f"{len(missing)} acknowledged signals are not in the journal: {missing}"
    assert not mismatched, f"journal ids differ from the acknowledged ones: {mismatched}"
    assert not doubled(orders), f"signals that became several orders: {doubled(orders)}"
    assert not not_filled, f"{len(not_filled)} signals not filled: {not_filled}"
    assert not without_order, f"{len(without_order)} signals without their one order"
    assert not strangers, f"orders the journal does not know: {strangers}"
    assert sum(orders.values()) == len(records)
    return records


def with_attempts(
    server: RunningServer, records: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    details = full_records(server, [record["id"] for record in records.values()])
    return {webhook_id: details[record["id"]] for webhook_id, record in records.items()}


def resumed_after_the_kill(records: dict[str, dict[str, Any]]) -> dict[str, list[str | None]]:
    """Signals whose attempt was cut by the kill (never finished), by webhook id, with the
    outcomes of their attempts."""
    return {
        webhook_id: [attempt["outcome"] for attempt in record["attempts"]]
        for webhook_id, record in records.items()
        if any(attempt["outcome"] is None for attempt in record["attempts"])
    }


def check_attempts(records: dict[str, dict[str, Any]]) -> None:
    """Each signal ended with one placing answer or one reconciliation, and an attempt cut by
    the kill was followed by a lookup at the exchange before anything else."""
    endings = {k: [a["outcome"] for a in r["attempts"]] for k, r in records.items()}
    bad_endings = {k: o for k, o in endings.items() if o[-1] not in ("result", "reconciled")}
    placed_twice = {k: o for k, o in endings.items()
                    if o.count("result") + o.count("reconciled") != 1}
    # "lookup_failed": Binance's "not found" is no proof within the receive window, so the
    # lookup is asked again (issue 18) before its answer counts
    unreconciled = {k: o for k, o in resumed_after_the_kill(records).items()
                    if [x for x in o[o.index(None) + 1:] if x != "lookup_failed"][:1]
                    not in (["reconciled"], ["not_found"])}
    assert not bad_endings, f"signals whose last attempt did not place the order: {bad_endings}"
    assert not placed_twice, f"signals placed more than once: {placed_twice}"
    assert not unreconciled, f"interrupted attempts resent without a lookup: {unreconciled}"


def resend_unanswered(server: RunningServer, barrage: Barrage) -> None:
    """Send the unanswered signals again with the same webhook ids, as their sender would: the
    ones stored before the kill are duplicates of the first signal, the others are new."""
    stored = {r["order"]["comment"]: r["id"] for r in journal_signals(server)}
    unanswered = [k for k, a in barrage.answers.items() if a.status is None]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for webhook_id in unanswered:
            answer = barrage.post(client, webhook_id)
            if webhook_id in stored:
                assert (answer.status, answer.body["status"]) == (200, "duplicate"), answer
                assert answer.signal_id == stored[webhook_id]
            else:
                assert (answer.status, answer.body["status"]) == (202, "queued"), answer
            barrage.answers[webhook_id] = Answer(202, answer.signal_id, {"status": "queued"})


def test_a_kill_while_signals_arrive_loses_none_and_doubles_none(
    tmp_path: Path, exchange: FakeBinance, servers: list[RunningServer]
) -> None:
    config = exchange_config(exchange, ACCOUNTS)
    exchange.order_latency = 0.02  # a round trip to a real exchange
    servers.append(start_tradehook(tmp_path / "serve", config))
    barrage = Barrage(servers[0].url, servers[0].secret, signals())
    started = time.monotonic()

    barrage.start()
    barrage.wait_for_acknowledged(SIGNALS // 2)
    barrage.up.clear()
    servers.append(kill_and_restart(servers[0], config))
    barrage.up.set()
    barrage.join()
    wait_until_settled(servers[1])

    unanswered = [k for k, a in barrage.answers.items() if a.status is None]
    after_restart = barrage.acknowledged - SIGNALS // 2
    assert len(barrage.answers) == SIGNALS
    assert after_restart > SIGNALS // 4, "the kill did not land midway through sending"
    records = with_attempts(servers[1], check_exactly_once(servers[1], exchange, barrage.answers))
    check_attempts(records)
    resumed = resumed_after_the_kill(records)
    resend_unanswered(servers[1], barrage)
    wait_until_settled(servers[1])
    records = check_exactly_once(servers[1], exchange, barrage.answers)
    assert len(records) == SIGNALS
    print(f"{SIGNALS} signals, {len(unanswered)} unanswered at the kill, "
          f"{len(resumed)} resumed in flight, "
          f"{time.monotonic() - started:.1f} s")


def test_a_kill_while_orders_are_executing_loses_none_and_doubles_none(
    tmp_path: Path, exchange: FakeBinance, servers: list[RunningServer]
) -> None:
    config = exchange_config(exchange, ACCOUNTS)
    exchange.order_latency = 0.2
    servers.append(start_tradehook(tmp_path / "serve", config))
    barrage = Barrage(servers[0].url, servers[0].secret, signals())
    started = time.monotonic()

    barrage.start()
    barrage.join()
    wait_for(lambda: len(exchange.orders) >= SIGNALS // 6, "orders to reach the exchange")
    servers[0].kill()
    exchange.order_latency = 0.0  # for the orders sent from now on
    servers.append(kill_and_restart(servers[0], config))
    wait_until_settled(servers[1])

    assert barrage.acknowledged == SIGNALS
    records = check_exactly_once(servers[1], exchange, barrage.answers)
    assert len(records) == SIGNALS
    records = with_attempts(servers[1], records)
    check_attempts(records)
    resumed = resumed_after_the_kill(records)
    reconciled = [k for k, outcomes in resumed.items() if "reconciled" in outcomes]
    assert len(resumed) >= len(ACCOUNTS), f"few signals were executing at the kill: {resumed}"
    assert reconciled, f"no order in flight at the kill had reached the exchange: {resumed}"
    print(f"{SIGNALS} signals, {len(resumed)} executing at the kill, {len(reconciled)} of them "
          f"found at the exchange, {time.monotonic() - started:.1f} s")
