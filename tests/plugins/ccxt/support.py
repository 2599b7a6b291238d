"""Helpers for the ccxt plugin's tests: orders, configurations pointed at the fake exchanges,
and started plugins (also for the conformance suite: `okx_swaps`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from plugins.ccxt import CcxtConfig, CcxtPlugin
from plugins.orders import Order
from tests.fakes import binance, bybit, kraken, okx
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.kraken import FakeKraken
from tests.fakes.okx import FakeOkx, OkxFailure

SIGNAL_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T2"
"""A signal id as the journal makes them (a ULID)."""

CREDENTIALS = {
    "TEST_BINANCE_KEY": binance.API_KEY,
    "TEST_BINANCE_SECRET": binance.SECRET,
    "TEST_OKX_KEY": okx.API_KEY,
    "TEST_OKX_SECRET": okx.SECRET,
    "TEST_OKX_PASSPHRASE": okx.PASSPHRASE,
    "TEST_KRAKEN_KEY": kraken.API_KEY,
    "TEST_KRAKEN_SECRET": kraken.SECRET,
    "TEST_BYBIT_KEY": bybit.API_KEY,
    "TEST_BYBIT_SECRET": bybit.SECRET,
}
"""The environment the configurations below name their credentials in."""


def order(symbol: str = "BTCUSDT", **fields: Any) -> Order:
    """A market buy of 0.01 for signal SIGNAL_ID, with `fields` changed."""
    values = {"symbol": symbol, "side": "buy", "quantity": 0.01, "client_order_id": SIGNAL_ID}
    return Order.model_validate(values | fields)


def binance_config(fake: FakeBinance, **options: Any) -> CcxtConfig:
    return _served_config("binance", "TEST_BINANCE", fake.url, options)


def _served_config(exchange: str, env: str, url: str, options: dict[str, Any]) -> CcxtConfig:
    """`exchange` at `url`, its credentials in {env}_KEY and {env}_SECRET."""
    values: dict[str, Any] = {
        "exchange": exchange,
        "api_key_env": f"{env}_KEY",
        "secret_env": f"{env}_SECRET",
        "api_host": url,
        "timeout": 2.0,
        "rate_limit": False,
    }
    return CcxtConfig.model_validate(values | options)


def okx_config(fake: FakeOkx, **options: Any) -> CcxtConfig:
    values: dict[str, Any] = {
        "exchange": "okx",
        "api_key_env": "TEST_OKX_KEY",
        "secret_env": "TEST_OKX_SECRET",
        "password_env": "TEST_OKX_PASSPHRASE",
        "market_type": "swap",
        "urls": {"rest": fake.url},
        "timeout": 2.0,
        "rate_limit": False,
    }
    return CcxtConfig.model_validate(values | options)


def kraken_config(fake: FakeKraken, **options: Any) -> CcxtConfig:
    return _served_config("kraken", "TEST_KRAKEN", fake.url, options)


def bybit_config(fake: FakeBybit, **options: Any) -> CcxtConfig:
    """The fake Bybit's USDT perpetuals."""
    return _served_config("bybit", "TEST_BYBIT", fake.url, {"market_type": "swap"} | options)


async def started(config: CcxtConfig) -> CcxtPlugin:
    """The plugin, started with `config`; the credentials must be in the environment."""
    plugin = CcxtPlugin("exchange")
    await plugin.init(config)
    plugin.exchange.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS; plain HTTP here
    return plugin


def let_time_pass(plugin: CcxtPlugin, seconds: float) -> None:
    """Move the plugin's clock on (for receive windows), without waiting."""
    trader = plugin._started_actions().trader
    now = trader.clock()
    trader.clock = lambda: now + seconds


@contextlib.contextmanager
def giving_up_soon(plugin: CcxtPlugin, milliseconds: int = 300) -> Iterator[None]:
    """ccxt gives up after `milliseconds` on the requests made in the block (an answer the fake
    holds back is lost at once); the lookups and brackets that follow have the configured
    timeout again, so that a loaded machine does not lose their answers too."""
    configured = plugin.exchange.timeout
    plugin.exchange.timeout = milliseconds
    try:
        yield
    finally:
        plugin.exchange.timeout = configured


@contextlib.contextmanager
def credentials_in_environment() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def lose_next_order_answer(plugin: CcxtPlugin, fake: FakeOkx, milliseconds: int = 400) -> None:
    """The next order request is placed and its answer held back (`OkxFailure.
    TIMEOUT_AFTER_ACCEPT`), and ccxt gives up on that one request after `milliseconds`: the
    requests before and after it keep the configured timeout, so that a loaded machine loses
    only the answer held back."""
    fake.fail_next(OkxFailure.TIMEOUT_AFTER_ACCEPT)
    exchange = plugin.exchange
    fetch = exchange.fetch

    async def fetch_losing_the_order(url: str, method: str = "GET",
                                     headers: Any = None, body: Any = None) -> Any:
        if method != "POST" or urlsplit(url).path not in okx.ORDER_PATHS:
            return await fetch(url, method, headers, body)
        exchange.fetch = fetch  # the next order only
        configured = exchange.timeout
        exchange.timeout = milliseconds
        try:
            return await fetch(url, method, headers, body)
        finally:
            exchange.timeout = configured

    exchange.fetch = fetch_losing_the_order


@contextlib.asynccontextmanager
async def okx_swaps(**options: Any) -> AsyncIterator[tuple[CcxtPlugin, FakeOkx]]:
    """A fake OKX account and the plugin trading its perpetual swaps; an answer lost on
    purpose (`lose_next_order_answer`) is held back 1 s, longer than the plugin waits."""
    fake = FakeOkx()
    fake.start()
    fake.answer_delay = 1.0
    try:
        with credentials_in_environment():
            plugin = await started(okx_config(fake, **options))
        try:
            yield plugin, fake
        finally:
            await plugin.close()
    finally:
        fake.stop()
