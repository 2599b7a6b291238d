"""Coinbase through ccxt's own request building: ccxt puts `'ccxt-' + uuid` in every order's
`client_order_id` unless the caller passes `client_order_id` itself, so the plugin sends our id
in that parameter. These tests read the signed request ccxt would put on the wire (its `fetch`
replaced by a recorder), so they prove our id, not ccxt's, reaches Coinbase.

The recorder answers as Coinbase's Create Order documents it
(https://docs.cdp.coinbase.com/advanced-trade/reference/retailbrokerageapi_postorder: `success`,
`order_id`, `success_response.client_order_id`) and its Get Public Product Ticker (`trades`,
`best_bid`, `best_ask`); the market comes from ccxt's own parser of a product as GET
/api/v3/brokerage/market/products lists it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from plugins.ccxt import CcxtConfig
from plugins.ccxt.actions import Actions
from plugins.ccxt.errors import exchange_redactor
from plugins.ccxt.exchange import create_exchange
from plugins.ccxt.symbols import Market
from plugins.ccxt.trader import ExchangeTrader
from plugins.orders import ExecutionStatus
from tests.plugins.ccxt.support import SIGNAL_ID, order

pytestmark = pytest.mark.anyio

ORDERS_URL = "https://api.coinbase.com/api/v3/brokerage/orders"
TICKER_URL = "https://api.coinbase.com/api/v3/brokerage/market/products/BTC-USD/ticker"
ORDER_ID = "52cfe5e2-0b29-4c19-a245-a6a773de5030"
PRODUCT = {
    "product_id": "BTC-USD", "price": "60000", "base_increment": "0.00000001",
    "quote_increment": "0.01", "quote_min_size": "1", "quote_max_size": "150000000",
    "base_min_size": "0.00000001", "base_max_size": "3400", "status": "online",
    "trading_disabled": False, "product_type": "SPOT", "base_currency_id": "BTC",
    "quote_currency_id": "USD",
}  # fmt: skip


@dataclass
class WireRecorder:
    """Stands in for ccxt's HTTP call: keeps each signed request, answers a created order."""

    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> dict[str, Any]:
        sent = json.loads(body) if body else {}
        self.requests.append((method, url, {"headers": dict(headers or {}), "body": sent}))
        if url.startswith(TICKER_URL):  # Get Public Product Ticker, one trade
            return {"trades": [{"trade_id": "1", "product_id": "BTC-USD", "price": "59999",
                                "size": "0.1", "side": "BUY", "time": "2026-12-01T12:00:00Z"}],
                    "best_bid": "59998", "best_ask": "60000"}  # fmt: skip
        if (method, url) != ("POST", ORDERS_URL):  # the plugin asks how the new order stands
            created = self.orders_sent[-1]["body"]
            return {"order": {"order_id": ORDER_ID, "status": "OPEN", **_echoed(created)}}
        return {"success": True, "order_id": ORDER_ID, "success_response": {
            "order_id": ORDER_ID, **_echoed(sent)}}  # fmt: skip

    @property
    def orders_sent(self) -> list[dict[str, Any]]:
        posted = [(url, sent) for method, url, sent in self.requests if method == "POST"]
        return [sent for url, sent in posted if url == ORDERS_URL]


def _echoed(sent: dict[str, Any]) -> dict[str, Any]:
    return {key: sent.get(key) for key in ("product_id", "side", "client_order_id")}


@pytest.fixture
async def coinbase() -> AsyncIterator[tuple[Actions, Market, WireRecorder]]:
    config = CcxtConfig(exchange="coinbase")
    exchange = create_exchange(config)
    exchange.apiKey, exchange.secret = "fake-coinbase-key", "fake-coinbase-secret"
    exchange.set_markets([exchange.parse_spot_market(PRODUCT, {})])
    recorder = WireRecorder()
    exchange.fetch = recorder.fetch
    trader = ExchangeTrader(exchange, config, exchange_redactor(["fake-coinbase-secret"]))
    try:
        yield Actions(trader, native_brackets=False), exchange.markets["BTC/USD"], recorder
    finally:
        await exchange.close()


async def test_our_client_order_id_is_in_the_body_ccxt_signs_and_sends(
    coinbase: tuple[Actions, Market, WireRecorder],
) -> None:
    actions, market, recorder = coinbase

    result = await actions.open(order("BTC/USD", order_type="limit", price=59000), market)

    [sent] = recorder.orders_sent
    assert sent["body"]["client_order_id"] == SIGNAL_ID
    assert not sent["body"]["client_order_id"].startswith("ccxt-")
    assert sent["headers"]["CB-ACCESS-SIGN"]  # signed as it was sent: the id is in what is signed
    assert result.status is ExecutionStatus.PLACED
    assert result.client_order_id == SIGNAL_ID


async def test_a_market_buy_carries_our_id_and_the_price_ccxt_needs(
    coinbase: tuple[Actions, Market, WireRecorder],
) -> None:
    actions, market, recorder = coinbase

    await actions.open(order("BTC/USD"), market)  # priced at the ask, 60000

    [sent] = recorder.orders_sent
    body = sent["body"]
    assert body["client_order_id"] == SIGNAL_ID
    assert body["order_configuration"]["market_market_ioc"]["quote_size"] == "600"
