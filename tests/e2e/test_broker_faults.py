"""Exactly one order per signal when the exchange fails: it times out after taking orders,
answers 503, rate-limits, or is down for a while. The journal tells what each attempt met.

A real `tradehook serve` trades on the fake Binance exchange, which checks client order ids as
Binance does (only against open orders), so a signal sent twice would be two orders there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.delivery import (
    doubled,
    exchange_config,
    full_records,
    native_signal,
    orders_per_client_id,
    rich_exchange,
    start_tradehook,
    wait_for,
    wait_until_settled,
)
from tests.e2e.server import RunningServer
from tests.fakes.binance import Failure, FakeBinance

pytestmark = pytest.mark.e2e

SIGNALS = 6
"""Two per market: three lanes at once, each with a second signal waiting behind the first."""
EXECUTION = """
retry_base_delay = 0.05
retry_max_delay = 0.2
breaker_failures = 3
breaker_cooldown = 0.5
"""
REQUEST_TIMEOUT = 0.5
INTERNAL_ERROR = "Internal error; unable to process your request"


@pytest.fixture
def exchange() -> Iterator[FakeBinance]:
    fake = rich_exchange()
    fake.answer_delay = 2 * REQUEST_TIMEOUT
    yield fake
    fake.stop()


@pytest.fixture
def server(exchange: FakeBinance, tmp_path: Path) -> Iterator[RunningServer]:
    config = exchange_config(
        exchange, ["exchange"], timeout=REQUEST_TIMEOUT, execution=EXECUTION
    )
    running = start_tradehook(tmp_path / "serve", config)
    yield running
    running.stop()


def send_signals(server: RunningServer) -> list[str]:
    """Post the signals; return their signal ids. The first of each market carries its price,
    so its order is the first request to the exchange; the second asks for a quote first."""
    signal_ids = []
    for number in range(SIGNALS):
        priced = number < SIGNALS // 2
        body = native_signal(number, f"fault-{number}", "exchange", priced=priced)
        answer = server.post_signed(body, content_type="application/json")
        assert answer.status_code == 202, answer.text
        signal_ids.append(answer.json()["signal_id"])
    return signal_ids


def executed_once(
    server: RunningServer, exchange: FakeBinance, signal_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Wait until every signal is final; each must be filled by exactly one order, the one its
    journal result names. Returns the signals with their attempts."""
    wait_until_settled(server)
    records = full_records(server, signal_ids)
    orders = orders_per_client_id(exchange)
    by_client_id = {order.client_order_id: order for order in exchange.orders}
    not_filled = {i: (r["status"], r["error"], outcomes(r)) for i, r in records.items()
                  if r["status"] != "filled"}
    assert not not_filled, f"signals not filled: {not_filled}"
    assert not doubled(orders), f"signals that became several orders: {doubled(orders)}"
    assert sorted(orders) == sorted(signal_ids), "orders do not match the signals one to one"
    for signal_id, record in records.items():
        assert record["result"]["order_id"] == str(by_client_id[signal_id].order_id)
    return records


def outcomes(record: dict[str, Any]) -> list[str | None]:
    return [attempt["outcome"] for attempt in record["attempts"]]


def failed_attempts(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every attempt but each signal's last, which placed its order."""
    for record in records.values():
        assert outcomes(record)[-1] == "result", record
    return [attempt for record in records.values() for attempt in record["attempts"][:-1]]


def test_timeouts_after_the_exchange_took_the_orders_are_reconciled_not_resent(
    server: RunningServer, exchange: FakeBinance
) -> None:
    exchange.fail_next(Failure.TIMEOUT_AFTER_ACCEPT, SIGNALS)

    records = executed_once(server, exchange, send_signals(server))

    assert {i: outcomes(r) for i, r in records.items()} == {i: ["reconciled"] for i in records}
    assert len(exchange.requests_to("POST", "/api/v3/order")) == SIGNALS
    looked_up = {p["origClientOrderId"] for p in exchange.requests_to("GET", "/api/v3/order")}
    assert looked_up == set(records)


def test_503_internal_errors_are_looked_up_then_sent_again(
    server: RunningServer, exchange: FakeBinance
) -> None:
    exchange.fail_next(Failure.UNAVAILABLE, SIGNALS)

    records = executed_once(server, exchange, send_signals(server))

    failed = failed_attempts(records)
    # A Binance 5xx may still have placed the order, so it is looked up; a "not found" is proof
    # only once the request's receive window has passed, so lookups inside it are asked again.
    not_found = [attempt for attempt in failed if attempt["outcome"] == "not_found"]
    assert len(not_found) == SIGNALS, "one proven 'not found' per 503"
    assert {attempt["outcome"] for attempt in failed} <= {"lookup_failed", "not_found"}
    for attempt in failed:
        assert INTERNAL_ERROR in attempt["error"]
    for attempt in not_found:
        assert "sending again" in attempt["error"]
    assert len(exchange.requests_to("POST", "/api/v3/order")) == 2 * SIGNALS


def test_rate_limits_are_retried_after_a_pause(
    server: RunningServer, exchange: FakeBinance
) -> None:
    exchange.fail_next(Failure.RATE_LIMIT, SIGNALS)

    records = executed_once(server, exchange, send_signals(server))

    failed = failed_attempts(records)
    assert len(failed) == SIGNALS, "one failed attempt per 429"
    assert {attempt["outcome"] for attempt in failed} == {"temporary"}
    for attempt in failed:
        assert "429 Too Many Requests" in attempt["error"]
        assert attempt["finished_at"] is not None
    assert len(exchange.requests_to("POST", "/api/v3/order")) == 2 * SIGNALS


def test_signals_wait_while_the_exchange_is_down_and_execute_once_when_it_is_back(
    server: RunningServer, exchange: FakeBinance
) -> None:
    exchange.down = True
    signal_ids = send_signals(server)

    wait_for(lambda: breaker(server) == "open", "the circuit breaker to open")
    while_down = full_records(server, signal_ids)
    exchange.down = False
    wait_until_settled(server)

    dropped = {i: (r["status"], r["error"]) for i, r in while_down.items()
               if r["status"] not in ("queued", "executing")}
    assert not dropped, f"signals given up while the exchange was down: {dropped}"
    records = executed_once(server, exchange, signal_ids)
    failed = failed_attempts(records)
    assert len(failed) >= 3, "the breaker opened after three failed attempts"
    for attempt in failed:
        assert INTERNAL_ERROR in attempt["error"]
    assert breaker(server) == "closed"


def breaker(server: RunningServer) -> str | None:
    """The exchange plugin's circuit breaker as /ready shows it (None before any failure)."""
    with server.client() as client:
        admin = {"authorization": f"Bearer {server.admin_token}"}
        state: str | None = client.get("/ready", headers=admin).json()["breakers"].get("exchange")
        return state
