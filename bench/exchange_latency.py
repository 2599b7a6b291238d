"""Time from a signal to its order at the exchange, through the real ccxt plugin.

A local fake of Binance's REST API (the one the tests use) stands in for the exchange, so the
figure is tradehook's own delay: answer, journal, claim, ccxt request, without a network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

from tests.e2e.server import start_server
from tests.fakes import binance
from tests.fakes.binance import FakeBinance
from webhook.auth.signatures import signature_headers

CONFIG = """
default_plugin = "exchange"

[plugins.exchange]
type = "ccxt"
exchange = "binance"
api_key_env = "BENCH_BINANCE_KEY"
secret_env = "BENCH_BINANCE_SECRET"
api_host = "{url}"
rate_limit = false
"""
ALERTS = ("buy 0.001 BTCUSDT", "buy 0.01 ETHUSDT")  # above the exchange's minimum value


@dataclass
class OrderLatency:
    signals: int
    rate: float
    p50_ms: float
    p99_ms: float
    missing: int
    doubled: int


def measure_order_latency(workdir: Path, *, count: int = 400, rate: float = 50.0) -> OrderLatency:
    exchange = FakeBinance()
    exchange.start()
    exchange.balances["USDT"] = Decimal(10**9)
    server = start_server(
        workdir, config_toml=CONFIG.format(url=exchange.url),
        env={"BENCH_BINANCE_KEY": binance.API_KEY, "BENCH_BINANCE_SECRET": binance.SECRET},
    )
    sent_at: dict[str, float] = {}
    try:
        with httpx.Client(timeout=10) as client:
            started = time.monotonic()
            for n in range(count):
                body = ALERTS[n % len(ALERTS)].encode()
                headers = {**signature_headers(server.secret, body), "content-type": "text/plain"}
                when = time.time()
                answer = client.post(f"{server.url}/webhook", content=body, headers=headers)
                if answer.status_code == 202:
                    sent_at[answer.json()["signal_id"]] = when
                pause = started + (n + 1) / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            placed = {o.client_order_id for o in exchange.orders}
            if set(sent_at) <= placed:
                break
            time.sleep(0.1)
    finally:
        server.stop()
        exchange.stop()
    by_signal: dict[str, list[float]] = {}
    for order in exchange.orders:
        by_signal.setdefault(order.client_order_id, []).append(order.time_ms / 1000)
    delays = sorted(
        (min(by_signal[signal_id]) - when) * 1000
        for signal_id, when in sent_at.items() if signal_id in by_signal
    )
    return OrderLatency(
        signals=len(sent_at),
        rate=rate,
        p50_ms=delays[len(delays) // 2] if delays else float("nan"),
        p99_ms=delays[min(len(delays) - 1, int(len(delays) * 0.99))] if delays else float("nan"),
        missing=sum(1 for signal_id in sent_at if signal_id not in by_signal),
        doubled=sum(1 for times in by_signal.values() if len(times) > 1),
    )
