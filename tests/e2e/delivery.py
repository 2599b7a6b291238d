"""`tradehook serve` against the fake Binance exchange, and an audit of what reached it: shared
by the delivery-guarantee tests (crash recovery, broker faults)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import TEST_ADMIN_TOKEN, RunningServer, start_server
from tests.fakes import binance
from tests.fakes.binance import FakeBinance

PENDING = ("queued", "executing")
MARKETS = {
    # symbol as alerts name it: the quantities to use, each above the market's minimum value
    "BTCUSDT": ("0.0001", "0.0002", "0.0003"),
    "ETHUSDT": ("0.002", "0.003", "0.004"),
    "ETHBTC": ("0.003", "0.004", "0.005"),
}
PRICES = {"BTCUSDT": "60000", "ETHUSDT": "3000", "ETHBTC": "0.05"}
CREDENTIALS = {"E2E_BINANCE_KEY": binance.API_KEY, "E2E_BINANCE_SECRET": binance.SECRET}
ACCOUNT = """
[plugins.{name}]
type = "ccxt"
exchange = "binance"
api_key_env = "E2E_BINANCE_KEY"
secret_env = "E2E_BINANCE_SECRET"
api_host = "{url}"
rate_limit = false
timeout = {timeout}
"""


def exchange_config(
    exchange: FakeBinance, accounts: Sequence[str], *, timeout: float = 2.0, execution: str = ""
) -> str:
    """A configuration with one ccxt plugin per name, all trading on the one fake account (each
    plugin and symbol is a lane of its own, so more names run more orders at once)."""
    tables = "".join(
        ACCOUNT.format(name=name, url=exchange.url, timeout=timeout) for name in accounts
    )
    return f'default_plugin = "{accounts[0]}"\n\n[execution]\n{execution}\n{tables}'


def rich_exchange() -> FakeBinance:
    """A started fake exchange whose account can pay for thousands of small orders, and which
    checks client order ids as Binance does (only against open orders): sending a filled
    order's id again places a second order there, so a resend shows as a double."""
    exchange = FakeBinance()
    exchange.start()
    for asset in ("USDT", "BTC", "ETH"):
        exchange.balances[asset] = Decimal(10_000_000)
    exchange.book.client_id_scope = "open"
    return exchange


def start_tradehook(workdir: Path, config: str, *, port: int | None = None) -> RunningServer:
    return start_server(workdir, config_toml=config, env=CREDENTIALS, port=port)


def native_signal(number: int, webhook_id: str, plugin: str, *, priced: bool = False) -> bytes:
    """A small market order for one of the fake's markets; `comment` carries the webhook id, so
    the journal shows which request a signal came from even when its answer was lost.

    `priced`: the alert carries the price it saw, as TradingView's `{{close}}` does; the order
    is then sent without asking the exchange for a quote first."""
    symbol = list(MARKETS)[number % len(MARKETS)]
    quantities = MARKETS[symbol]
    body = {
        "symbol": symbol,
        "side": "buy" if number % 2 else "sell",
        "quantity": quantities[(number // len(MARKETS)) % len(quantities)],
        "plugin": plugin,
        "comment": webhook_id,
    }
    if priced:
        body["price"] = PRICES[symbol]
    return json.dumps(body).encode()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def admin_client(server: RunningServer) -> httpx.Client:
    headers = {"authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


def nothing_pending(server: RunningServer) -> bool:
    with admin_client(server) as client:
        for status in PENDING:
            answer = client.get("/api/signals", params={"status": status, "limit": 1})
            answer.raise_for_status()
            if answer.json()["signals"]:
                return False
    return True


def wait_until_settled(server: RunningServer, timeout: float = 45.0) -> None:
    """Until no signal in the journal is queued or executing."""
    wait_for(lambda: nothing_pending(server), "every signal to be final", timeout)


def journal_signals(server: RunningServer) -> list[dict[str, Any]]:
    """Every signal in the journal (without attempts), newest first."""
    found: list[dict[str, Any]] = []
    with admin_client(server) as client:
        before: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 500}
            if before is not None:
                params["before"] = before
            answer = client.get("/api/signals", params=params)
            answer.raise_for_status()
            page: list[dict[str, Any]] = answer.json()["signals"]
            if not page:
                return found
            found += page
            before = page[-1]["id"]


def full_records(server: RunningServer, signal_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """GET /api/signals/{id} for each: the signal with every attempt."""

    def fetch(chunk: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        with admin_client(server) as client:
            for signal_id in chunk:
                answer = client.get(f"/api/signals/{signal_id}")
                answer.raise_for_status()
                yield signal_id, answer.json()

    chunks = [signal_ids[k::8] for k in range(8)]
    with ThreadPoolExecutor(len(chunks)) as pool:
        return dict(pair for pairs in pool.map(lambda c: list(fetch(c)), chunks) for pair in pairs)


def orders_per_client_id(exchange: FakeBinance) -> Counter[str]:
    with exchange.book.lock:
        return Counter(order.client_order_id for order in exchange.orders)


def doubled(orders: Counter[str]) -> dict[str, int]:
    return {client_id: count for client_id, count in orders.items() if count > 1}
