"""A fake Binance spot exchange speaking the REST API as ccxt calls it.

It checks the API key header and the HMAC signature of every signed request, enforces
`newClientOrderId` uniqueness, applies the filters it publishes (see `binance_book`), records
every request and every order, and can be told to fail the next requests in the ways real
exchanges fail, to be slow, or to be down.

    fake = FakeBinance()
    fake.start()                      # serves on 127.0.0.1, at fake.url
    fake.fail_next(Failure.RATE_LIMIT)
    fake.order_latency = 0.2          # every order takes 0.2 s
    fake.down = True                  # every request is answered 503 until set back
    ...
    fake.orders                       # every order it accepted
    fake.stop()
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.background import BackgroundServer, ServedFake, routed_app
from tests.fakes.binance_book import (
    COMMISSION,
    INSUFFICIENT,
    MARKETS,
    BinanceError,
    FakeOrder,
    SpotBook,
    symbol_info,
)

API_KEY = "fake-binance-api-key"
SECRET = "fake-binance-secret-value"
SIGNED_PREFIXES = (
    "/api/v3/order", "/api/v3/openOrders", "/api/v3/account", "/api/v3/myTrades", "/sapi/"
)  # fmt: skip
PARAMS: web.RequestKey[dict[str, str]] = web.RequestKey("params", dict)


class Failure(StrEnum):
    RATE_LIMIT = "rate_limit"
    """429 with Retry-After and code -1003; nothing is placed."""
    UNAVAILABLE = "unavailable"
    """503 with code -1001 (internal error); nothing is placed."""
    INSUFFICIENT_BALANCE = "insufficient_balance"
    """400 with code -2010, as when the account cannot pay."""
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    """The request is carried out, but the answer comes only after `answer_delay` seconds."""
    UNKNOWN_ORDER = "unknown_order"
    """400 with code -2013 (order does not exist) for an order query."""
    LATE_EXECUTION = "late_execution"
    """The API server answers at once 503 with -1007 ("Timeout waiting for response from
    backend server. Send status unknown; execution status unknown.", in
    https://developers.binance.com/docs/binance-spot-api-docs/errors), and the matching engine
    carries the order out `answer_delay` seconds later, so a lookup meanwhile finds nothing. It
    is carried out only while its timestamp + recvWindow has not passed ("Timing security" in
    https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type).
    Unconfirmed: the HTTP status that comes with -1007, and that the engine applies the
    receive window to a request it reaches late."""
    SERVER_ERROR_AFTER_ACCEPT = "server_error_after_accept"
    """The order is carried out, then the answer is HTTP 500 with code -2010: Binance says a 5xx
    means "the execution status is UNKNOWN and could have been a success", whatever the body
    (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/http-return-codes)."""


DEFAULT_TARGET = {
    Failure.RATE_LIMIT: ("POST", "/api/v3/order"),
    Failure.UNAVAILABLE: ("POST", "/api/v3/order"),
    Failure.INSUFFICIENT_BALANCE: ("POST", "/api/v3/order"),
    Failure.TIMEOUT_AFTER_ACCEPT: ("POST", "/api/v3/order"),
    Failure.UNKNOWN_ORDER: ("GET", "/api/v3/order"),
    Failure.LATE_EXECUTION: ("POST", "/api/v3/order"),
    Failure.SERVER_ERROR_AFTER_ACCEPT: ("POST", "/api/v3/order"),
}
_INTERNAL = "Internal error; unable to process your request. Please try again."
_BACKEND_TIMEOUT = (
    "Timeout waiting for response from backend server. Send status unknown; execution status "
    "unknown."
)
_REFUSALS = {
    Failure.UNAVAILABLE: (503, -1001, _INTERNAL),
    Failure.INSUFFICIENT_BALANCE: (400, -2010, INSUFFICIENT),
    Failure.UNKNOWN_ORDER: (400, -2013, "Order does not exist."),
}  # fmt: skip


def _now_ms() -> int:
    return int(time.time() * 1000)


class FakeBinance(ServedFake):
    def __init__(self) -> None:
        self.api_key = API_KEY
        self.secret = SECRET
        """What the exchange accepts; change them to make it refuse the plugin's."""
        self.book = SpotBook()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.answer_delay = 3.0
        self.order_latency = 0.0
        """Seconds each new order takes, half before it is carried out and half after: an
        order in flight may or may not be at the exchange yet."""
        self.down = False
        """While True, every request is answered 503 (-1001) and nothing is carried out."""
        self.clock_offset_ms = 0
        """How far the exchange's clock is ahead of this machine's (GET /api/v3/time and the
        timestamp check use it), to test ccxt's adjustForTimeDifference."""
        self.answer_other_order = False
        """Fault injection, not Binance behaviour: GET /api/v3/order answers with the newest
        order whatever id was asked (as a stubbed Bybit did), to test that the plugin checks
        the client id of what a lookup returns."""
        self._failures: list[tuple[Failure, str, str]] = []
        self._late: list[asyncio.Future[None]] = []
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app)

    # -- control, from the tests ----------------------------------------------------------------

    @property
    def orders(self) -> list[FakeOrder]:
        return self.book.orders

    @property
    def order_lists(self) -> list[dict[str, Any]]:
        return self.book.order_lists

    @property
    def balances(self) -> dict[str, Decimal]:
        """Free balances by asset; set one to give the account that much."""
        return self.book.balances

    def fail_next(
        self, failure: Failure, times: int = 1, *, method: str = "", path: str = ""
    ) -> None:
        """Fail the next `times` requests to `method path` (by default, the order endpoint)."""
        default_method, default_path = DEFAULT_TARGET[failure]
        with self._lock:
            for _ in range(times):
                self._failures.append((failure, method or default_method, path or default_path))

    def clear_failures(self) -> None:
        """Forget the failures `fail_next` queued that have not happened yet."""
        with self._lock:
            self._failures.clear()

    def order_by_client_id(self, client_order_id: str) -> FakeOrder | None:
        return self.book.by_client_id(client_order_id)

    def requests_to(self, method: str, path: str) -> list[dict[str, str]]:
        return [params for m, p, params in self.requests if m == method and p == path]

    # -- the HTTP side --------------------------------------------------------------------------

    def _app(self) -> web.Application:
        return routed_app(self._middleware, [
            ("GET", "/api/v3/ping", self._empty_object),
            ("GET", "/api/v3/time", self._time),
            ("GET", "/api/v3/exchangeInfo", self._exchange_info),
            ("GET", "/api/v3/ticker/24hr", self._ticker),
            ("GET", "/api/v3/account", self._account),
            ("POST", "/api/v3/order", self._new_order),
            ("GET", "/api/v3/order", self._query_order),
            ("DELETE", "/api/v3/order", self._cancel_order),
            ("GET", "/api/v3/openOrders", self._open_orders),
            ("GET", "/api/v3/myTrades", self._my_trades),
            ("DELETE", "/api/v3/openOrders", self._cancel_open_orders),
            ("POST", "/api/v3/orderList/oco", self._new_oco),
            # what ccxt's load_markets also asks by default: no futures, no currency details
            ("GET", "/fapi/v1/exchangeInfo", self._no_markets),
            ("GET", "/dapi/v1/exchangeInfo", self._no_markets),
            ("GET", "/sapi/v1/capital/config/getall", self._empty_list),
            ("GET", "/sapi/v1/margin/allPairs", self._empty_list),
            ("GET", "/sapi/v1/margin/isolated/allPairs", self._empty_list),
        ])

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.text()
        signed_text = body if request.method == "POST" else request.rel_url.raw_query_string
        params = dict(parse_qsl(signed_text))
        self.requests.append((request.method, request.path, params))
        new_order = (request.method, request.path) == ("POST", "/api/v3/order")
        latency = self.order_latency if new_order else 0.0
        failure = None if self.down else self._take_failure(request.method, request.path)
        try:
            if self.down:
                raise BinanceError(*_REFUSALS[Failure.UNAVAILABLE])
            if request.path.startswith(SIGNED_PREFIXES):
                self._check_signature(request, signed_text)
            if failure is Failure.RATE_LIMIT:
                raise BinanceError(429, -1003, "Too many requests; please use the websocket.")
            if failure in _REFUSALS:
                raise BinanceError(*_REFUSALS[failure])
            request[PARAMS] = params
            if latency:
                await asyncio.sleep(latency / 2)
            if failure is Failure.LATE_EXECUTION:
                self._late.append(asyncio.ensure_future(self._carry_out_late(handler, request)))
                raise BinanceError(503, -1007, _BACKEND_TIMEOUT)
            response: web.StreamResponse = await handler(request)
            if failure is Failure.SERVER_ERROR_AFTER_ACCEPT:
                raise BinanceError(500, -2010, "Internal error after the order was placed.")
        except BinanceError as exc:
            headers = {"Retry-After": "1"} if exc.status == 429 else None
            answer = {"code": exc.code, "msg": exc.msg}
            return web.json_response(answer, status=exc.status, headers=headers)
        if latency:
            await asyncio.sleep(latency / 2)
        if failure is Failure.TIMEOUT_AFTER_ACCEPT:
            await asyncio.sleep(self.answer_delay)
        return response

    async def _carry_out_late(self, handler: Any, request: web.Request) -> None:
        await asyncio.sleep(self.answer_delay)
        try:
            self._check_timestamp(request[PARAMS])
            await handler(request)
        except BinanceError:
            return  # refused when the engine reached it: nothing placed

    def _take_failure(self, method: str, path: str) -> Failure | None:
        with self._lock:
            for index, (failure, f_method, f_path) in enumerate(self._failures):
                if f_method == method and f_path == path:
                    del self._failures[index]
                    return failure
        return None

    def _check_signature(self, request: web.Request, signed_text: str) -> None:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload, sep, signature = signed_text.rpartition("&signature=")
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        self._check_timestamp(dict(parse_qsl(payload)))

    def _check_timestamp(self, params: dict[str, str]) -> None:
        """Timing security: refused unless timestamp <= serverTime + 1000 and
        serverTime - timestamp <= recvWindow (default 5000)."""
        stamp, window = int(params.get("timestamp", 0)), int(params.get("recvWindow", 5000))
        now = _now_ms() + self.clock_offset_ms
        if stamp > now + 1000 or now - stamp > window:
            raise BinanceError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )

    async def _empty_object(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def _empty_list(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def _no_markets(self, request: web.Request) -> web.Response:
        return web.json_response({"timezone": "UTC", "serverTime": _now_ms(), "symbols": []})

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": _now_ms() + self.clock_offset_ms})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        symbols = [symbol_info(market) for market in MARKETS.values()]
        return web.json_response(
            {"timezone": "UTC", "serverTime": _now_ms(), "rateLimits": [], "exchangeFilters": [],
             "symbols": symbols}
        )  # fmt: skip

    async def _ticker(self, request: web.Request) -> web.Response:
        market = self.book.market(request[PARAMS].get("symbol", ""))
        bid, ask = self.book.quote(market.symbol)
        last = str(self.book.prices[market.symbol])
        return web.json_response(
            {"symbol": market.symbol, "priceChange": "0", "priceChangePercent": "0",
             "weightedAvgPrice": last, "prevClosePrice": last, "lastPrice": last, "lastQty": "1",
             "bidPrice": str(bid), "bidQty": "5", "askPrice": str(ask), "askQty": "5",
             "openPrice": last, "highPrice": last, "lowPrice": last, "volume": "1234.5",
             "quoteVolume": "0", "openTime": _now_ms() - 86_400_000, "closeTime": _now_ms(),
             "firstId": 1, "lastId": 2, "count": 2}
        )  # fmt: skip

    async def _account(self, request: web.Request) -> web.Response:
        book = self.book
        with book.lock:
            balances = [
                {"asset": asset, "free": str(free), "locked": str(book.locked.get(asset, 0))}
                for asset, free in book.balances.items()
            ]
        return web.json_response(
            {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
             "sellerCommission": 0, "canTrade": True, "canWithdraw": True, "canDeposit": True,
             "brokered": False, "requireSelfTradePrevention": False, "preventSor": False,
             "updateTime": _now_ms(), "accountType": "SPOT", "balances": balances,
             "permissions": ["SPOT"], "uid": 1}
        )  # fmt: skip

    async def _new_order(self, request: web.Request) -> web.Response:
        order = self.book.place(request[PARAMS])
        fills = []
        if order.executed:
            market = MARKETS[order.symbol]
            buy = order.side == "BUY"
            commission = (order.executed if buy else order.quote_executed) * COMMISSION
            fills.append(
                {"price": str(order.quote_executed / order.executed), "qty": str(order.executed),
                 "commission": str(commission),
                 "commissionAsset": market.base if buy else market.quote,
                 "tradeId": next(self.book.ids)}
            )  # fmt: skip
            self.book.fills[order.order_id] = [
                {"symbol": order.symbol, "id": fill["tradeId"], "orderId": order.order_id,
                 "orderListId": -1, "price": fill["price"], "qty": fill["qty"],
                 "quoteQty": str(order.quote_executed), "commission": fill["commission"],
                 "commissionAsset": fill["commissionAsset"], "time": order.time_ms,
                 "isBuyer": buy, "isMaker": False, "isBestMatch": True}
                for fill in fills
            ]  # fmt: skip
        # the FULL answer carries `fills`; GET /api/v3/order does not (see `_query_order`)
        return web.json_response(order.as_json() | {"transactTime": order.time_ms, "fills": fills})

    async def _my_trades(self, request: web.Request) -> web.Response:
        """GET /api/v3/myTrades with symbol and orderId: that order's trades, with commission
        and commissionAsset (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/account-endpoints)."""
        params = request[PARAMS]
        order_id = int(params.get("orderId", "0") or 0)
        fills = self.book.fills.get(order_id, [])
        trades = [t for t in fills if t["symbol"] == params.get("symbol")]
        return web.json_response(trades)

    async def _query_order(self, request: web.Request) -> web.Response:
        if self.answer_other_order and self.orders:
            return web.json_response(self.orders[-1].as_json())
        return web.json_response(self.book.find(request[PARAMS]).as_json())

    async def _cancel_order(self, request: web.Request) -> web.Response:
        order = self.book.find(request[PARAMS], code=-2011)
        if not order.is_open:
            raise BinanceError(400, -2011, "Unknown order sent.")
        self.book.cancel([order])
        return web.json_response(order.as_json() | {"origClientOrderId": order.client_order_id})

    async def _open_orders(self, request: web.Request) -> web.Response:
        symbol = request[PARAMS].get("symbol")
        resting = [o for o in self.orders if o.is_open and symbol in (None, o.symbol)]
        return web.json_response([o.as_json() for o in resting])

    async def _cancel_open_orders(self, request: web.Request) -> web.Response:
        symbol = self.book.market(request[PARAMS].get("symbol", "")).symbol
        resting = [o for o in self.orders if o.is_open and o.symbol == symbol]
        if not resting:
            raise BinanceError(400, -2011, "Unknown order sent.")
        self.book.cancel(resting)
        return web.json_response(
            [o.as_json() | {"origClientOrderId": o.client_order_id} for o in resting]
        )

    async def _new_oco(self, request: web.Request) -> web.Response:
        params = request[PARAMS]
        list_id, legs = self.book.place_oco(params)
        symbol = legs[0].symbol
        return web.json_response(
            {"orderListId": list_id, "contingencyType": "OCO", "listStatusType": "EXEC_STARTED",
             "listOrderStatus": "EXECUTING", "listClientOrderId": params.get("listClientOrderId"),
             "transactionTime": _now_ms(), "symbol": symbol,
             "orders": [{"symbol": symbol, "orderId": leg.order_id,
                         "clientOrderId": leg.client_order_id} for leg in legs],
             "orderReports": [leg.as_json() for leg in legs]}
        )  # fmt: skip
