"""A fake Bybit unified trading account with USDT perpetuals (v5 API), as ccxt's client calls it:
an exchange whose lookup by client order id cannot be trusted through ccxt.

What it follows, page by page (https://bybit-exchange.github.io/docs/v5/...):
- guide#authentication: `X-BAPI-API-KEY`, `-TIMESTAMP`, `-RECV-WINDOW` and `-SIGN` = hex
  HMAC-SHA256 of timestamp + key + recv window + (query string for GET | JSON body for POST).
  Every answer is HTTP 200 with `retCode` (0: OK) and `retMsg` (guide#response).
- order/create-order: answers `orderId` and `orderLinkId` only. `orderLinkId` is ours (36
  characters at most). A second order under an `orderLinkId` already used is refused with
  110072 "OrderLinkedID is duplicate" (error page); the fake checks it against every order,
  since the page does not say for how long an id stays taken - unconfirmed. `triggerPrice`
  makes a conditional order (`orderStatus` Untriggered, `stopOrderType` Stop) that
  `move_price` triggers: `triggerDirection` 1 "triggered when market price rises to
  triggerPrice", 2 "when market price falls to triggerPrice" (the fake watches the last price,
  `triggerBy`'s default), and without one when the price crosses the level; one already on
  the far side is refused, 110092 "expect Rising, but trigger_price[..] <= current[..]" or
  110093 "expect Falling, ..." (error page); `takeProfit` / `stopLoss` on an entry set the
  position's TP/SL (tpslMode Full), which end with the position (position/trading-stop).
- order/open-order (GET /v5/order/realtime): filters by orderId > orderLinkId > symbol, in
  that priority, newest first; an empty `orderId` filters nothing, so the answer is the
  symbol's open orders (what ccxt's fetchOrder('', ...) reads `list[0]` of). It shows open
  orders, and closed ones only when asked by orderId or orderLinkId (the page: "recent 500
  closed status orders"; after a server restart only order history has them - the fake never
  restarts). `orderFilter` StopOrder lists only conditional orders; without it the fake lists
  every kind (the page's Chinese version says so, ccxt's comment says Order only: unconfirmed).
- position/position-info (GET /v5/position/list): one-way mode (`positionIdx` 0), `size` in
  base coin, `side` Buy / Sell / "" when flat.
- user/apikey-info and account/account-info: a unified account (`uta` 1), as ccxt asks.
- market/instrument, market/tickers, market/time, account/wallet-balance: one USDT
  perpetual, BTCUSDT, at 60000 with a 0.1 tick and a 0.001 BTC lot; 100000 USDT.
Market orders fill at once at the ask or bid (the fake's spread; the book is unconfirmed).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.background import BackgroundServer, ServedFake, routed_app

API_KEY = "fake-bybit-api-key"
SECRET = "fake-bybit-secret-value"
SYMBOL = "BTCUSDT"
SPREAD, LOT, TICK = Decimal(6), Decimal("0.001"), Decimal("0.1")
PARAMS: web.RequestKey[dict[str, Any]] = web.RequestKey("params", dict)


class BybitError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _ms() -> str:
    return str(int(time.time() * 1000))


@dataclass
class BybitOrder:
    order_id: str
    order_link_id: str
    side: str
    order_type: str
    qty: Decimal
    request: dict[str, Any]
    status: str = "New"
    filled: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)
    created: str = ""

    @property
    def open(self) -> bool:
        return self.status in ("New", "PartiallyFilled", "Untriggered")

    def as_json(self) -> dict[str, Any]:
        request = self.request
        conditional = bool(request.get("triggerPrice"))
        return {
            "orderId": self.order_id, "orderLinkId": self.order_link_id, "symbol": SYMBOL,
            "price": str(request.get("price", "0")), "qty": str(self.qty), "side": self.side,
            "positionIdx": 0, "orderStatus": self.status, "avgPrice": str(self.avg_price),
            "leavesQty": str(self.qty - self.filled), "cumExecQty": str(self.filled),
            "cumExecValue": str(self.filled * self.avg_price), "cumExecFee": "0",
            "timeInForce": request.get("timeInForce", "GTC"), "orderType": self.order_type,
            "stopOrderType": "Stop" if conditional else "",
            "triggerPrice": str(request.get("triggerPrice", "")),
            "triggerDirection": request.get("triggerDirection", 0),
            "takeProfit": str(request.get("takeProfit", "")),
            "stopLoss": str(request.get("stopLoss", "")),
            "reduceOnly": bool(request.get("reduceOnly", False)), "closeOnTrigger": False,
            "createdTime": self.created, "updatedTime": self.created,
        }  # fmt: skip


class FakeBybit(ServedFake):
    def __init__(self) -> None:
        self.price = Decimal(60000)
        self.orders: list[BybitOrder] = []
        self.position = Decimal(0)
        """Signed size in BTC: positive long, negative short."""
        self.position_tpsl: dict[str, str] = {}
        """The position's takeProfit / stopLoss (tpslMode Full), set by an entry."""
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.answer_delay = 0.0
        """Seconds every order/create answer is held after the order was placed."""
        self._ids = itertools.count(1_000_001)
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app)

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [params for _, p, params in self.requests if p == path]

    def order_by_link_id(self, link_id: str) -> BybitOrder | None:
        return next((o for o in self.orders if o.order_link_id == link_id), None)

    def place_by_hand(self, side: str, qty: str, price: str) -> BybitOrder:
        """A resting limit order placed outside tradehook (on the website)."""
        params = {"side": side, "orderType": "Limit", "qty": qty, "price": price}
        return self._place(params | {"orderLinkId": ""})

    def move_price(self, price: Decimal) -> list[BybitOrder]:
        """Set the last price; conditional orders it crosses trigger as market orders."""
        with self._lock:
            before, self.price = self.price, price
            fired = []
            for order in self.orders:
                level = Decimal(str(order.request.get("triggerPrice") or 0))
                crossed = {1: price >= level, 2: price <= level}.get(
                    int(order.request.get("triggerDirection") or 0),
                    min(before, price) <= level <= max(before, price))
                if order.status == "Untriggered" and crossed:
                    order.status = "Triggered"
                    self._fill(order)
                    fired.append(order)
            return fired

    def _app(self) -> web.Application:
        return routed_app(self._middleware, [
            ("GET", "/v5/market/time", self._time),
            ("GET", "/v5/market/instruments-info", self._instruments),
            ("GET", "/v5/market/tickers", self._tickers),
            ("GET", "/v5/asset/coin/query-info", self._coins),
            ("GET", "/v5/user/query-api", self._api_key_info),
            ("GET", "/v5/account/info", self._account_info),
            ("GET", "/v5/account/wallet-balance", self._wallet),
            ("GET", "/v5/position/list", self._positions),
            ("POST", "/v5/order/create", self._create),
            ("GET", "/v5/order/realtime", self._realtime),
            ("POST", "/v5/order/cancel", self._cancel),
        ])  # fmt: skip

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.text()
        query = dict(parse_qsl(request.query_string, keep_blank_values=True))  # orderId=""
        params: dict[str, Any] = json.loads(body) if body else query
        self.requests.append((request.method, request.path, params))
        try:
            if not request.path.startswith("/v5/market/"):
                self._check_signature(request, body or request.query_string)
            request[PARAMS] = params
            result = await handler(request)
        except BybitError as exc:
            return _answer(exc.code, str(exc), {})
        if request.path == "/v5/order/create" and self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return _answer(0, "OK", result)

    def _check_signature(self, request: web.Request, payload: str) -> None:
        headers = request.headers
        if headers.get("X-BAPI-API-KEY") != API_KEY:
            raise BybitError(10003, "API key is invalid.")
        signed = headers.get("X-BAPI-TIMESTAMP", "") + API_KEY
        signed += headers.get("X-BAPI-RECV-WINDOW", "") + payload
        expected = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("X-BAPI-SIGN", ""), expected):
            raise BybitError(10004, "Error sign, please check your signature generation algorithm.")

    async def _time(self, request: web.Request) -> dict[str, Any]:
        now = time.time()
        return {"timeSecond": str(int(now)), "timeNano": str(int(now * 1e9))}

    async def _instruments(self, request: web.Request) -> dict[str, Any]:
        category = request[PARAMS].get("category")
        wanted = category == "linear" and request[PARAMS].get("status") != "PreLaunch"
        perpetual = {
            "symbol": SYMBOL, "contractType": "LinearPerpetual", "status": "Trading",
            "baseCoin": "BTC", "quoteCoin": "USDT", "settleCoin": "USDT",
            "launchTime": "1585526400000", "deliveryTime": "0", "priceScale": "1",
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": "0.1", "maxPrice": "1999999.8", "tickSize": str(TICK)},
            "lotSizeFilter": {"maxOrderQty": "1190", "minOrderQty": str(LOT),
                              "qtyStep": str(LOT), "minNotionalValue": "5"},
            "fundingInterval": 480, "copyTrading": "both", "unifiedMarginTrade": True,
        }  # fmt: skip
        return {"category": category, "list": [perpetual] if wanted else [],
                "nextPageCursor": ""}  # fmt: skip

    async def _tickers(self, request: web.Request) -> dict[str, Any]:
        last = str(self.price)
        bid, ask = str(self.price - SPREAD), str(self.price + SPREAD)
        ticker = {"symbol": SYMBOL, "lastPrice": last, "bid1Price": bid, "ask1Price": ask,
                  "bid1Size": "1", "ask1Size": "1", "markPrice": last, "indexPrice": last,
                  "prevPrice24h": last, "highPrice24h": last, "lowPrice24h": last,
                  "volume24h": "1", "turnover24h": last, "price24hPcnt": "0"}  # fmt: skip
        return {"category": "linear", "list": [ticker]}

    async def _coins(self, request: web.Request) -> dict[str, Any]:
        return {"rows": []}

    async def _api_key_info(self, request: web.Request) -> dict[str, Any]:
        return {"apiKey": API_KEY, "readOnly": 0, "unified": 0, "uta": 1,
                "permissions": {"ContractTrade": ["Order", "Position"]}}  # fmt: skip

    async def _account_info(self, request: web.Request) -> dict[str, Any]:
        return {"unifiedMarginStatus": 5, "marginMode": "REGULAR_MARGIN"}

    async def _wallet(self, request: web.Request) -> dict[str, Any]:
        usdt = {"coin": "USDT", "equity": "100000", "walletBalance": "100000", "locked": "0",
                "totalOrderIM": "0", "totalPositionIM": "0", "availableToWithdraw": "100000",
                "unrealisedPnl": "0", "borrowAmount": "0"}  # fmt: skip
        return {"list": [{"accountType": "UNIFIED", "totalEquity": "100000",
                          "totalAvailableBalance": "100000", "coin": [usdt]}]}  # fmt: skip

    async def _positions(self, request: web.Request) -> dict[str, Any]:
        size = abs(self.position)
        side = "" if not size else ("Buy" if self.position > 0 else "Sell")
        position = {
            "symbol": SYMBOL, "side": side, "size": str(size), "positionIdx": 0,
            "avgPrice": str(self.price), "positionValue": str(size * self.price),
            "markPrice": str(self.price), "leverage": "10", "tradeMode": 0,
            "tpslMode": "Full", "takeProfit": self.position_tpsl.get("takeProfit", ""),
            "stopLoss": self.position_tpsl.get("stopLoss", ""), "liqPrice": "",
            "unrealisedPnl": "0", "cumRealisedPnl": "0", "positionStatus": "Normal",
            "createdTime": _ms(), "updatedTime": _ms(),
        }  # fmt: skip
        return {"category": "linear", "list": [position]}

    async def _create(self, request: web.Request) -> dict[str, Any]:
        order = self._place(request[PARAMS])
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    async def _realtime(self, request: web.Request) -> dict[str, Any]:
        asked = request[PARAMS]
        orders = list(reversed(self.orders))  # newest first
        if asked.get("orderFilter") == "StopOrder":
            orders = [o for o in orders if o.request.get("triggerPrice")]
        if asked.get("orderId"):
            orders = [o for o in orders if o.order_id == asked["orderId"]]
        elif asked.get("orderLinkId"):
            orders = [o for o in orders if o.order_link_id == asked["orderLinkId"]]
        else:
            orders = [o for o in orders if o.open]
        return {"category": "linear", "list": [o.as_json() for o in orders],
                "nextPageCursor": ""}  # fmt: skip

    async def _cancel(self, request: web.Request) -> dict[str, Any]:
        asked = request[PARAMS]
        with self._lock:
            for order in self.orders:
                if order.open and asked.get("orderId") in (order.order_id, None) and (
                    asked.get("orderLinkId") in (order.order_link_id, None)
                ):
                    order.status = "Cancelled"
                    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}
        raise BybitError(110001, "Order does not exist.")

    def _place(self, params: dict[str, Any]) -> BybitOrder:
        with self._lock:
            link_id = str(params.get("orderLinkId") or "")
            if len(link_id) > 36:
                raise BybitError(10001, "orderLinkId is too long.")
            if link_id and self.order_by_link_id(link_id) is not None:
                raise BybitError(110072, "OrderLinkedID is duplicate")
            qty = Decimal(str(params.get("qty", "0")))
            if qty < LOT or qty % LOT:
                raise BybitError(10001, f"Qty invalid: a multiple of {LOT}")
            order = BybitOrder(
                str(next(self._ids)), link_id, str(params.get("side")),
                str(params.get("orderType")), qty, dict(params), created=_ms(),
            )  # fmt: skip
            if params.get("triggerPrice"):
                self._check_direction(params)
                order.status = "Untriggered"
            elif order.order_type == "Market":
                self._fill(order)
            self.orders.append(order)
            return order

    def _check_direction(self, params: dict[str, Any]) -> None:
        """A conditional order must wait for the price to move to its level; the caller holds
        the lock."""
        level, direction = Decimal(str(params["triggerPrice"])), params.get("triggerDirection")
        shown = f"trigger_price[{level}] {{}} current[{self.price}]??LastPrice"
        if direction == 1 and level <= self.price:
            raise BybitError(110092, "expect Rising, but " + shown.format("<="))
        if direction == 2 and level >= self.price:
            raise BybitError(110093, "expect Falling, but " + shown.format(">="))

    def _fill(self, order: BybitOrder) -> None:
        """A market order (or a triggered one) fills at once; the caller holds the lock."""
        buying = order.side == "Buy"
        signed = order.qty if buying else -order.qty
        if order.request.get("reduceOnly") and (
            self.position == 0 or self.position * signed > 0
        ):
            order.status = "Cancelled"  # nothing to reduce
            return
        order.status, order.filled = "Filled", order.qty
        order.avg_price = self.price + SPREAD if buying else self.price - SPREAD
        self.position += signed
        for key in ("takeProfit", "stopLoss"):
            if order.request.get(key):
                self.position_tpsl[key] = str(order.request[key])
        if self.position == 0:
            self.position_tpsl.clear()


def _answer(code: int, message: str, result: dict[str, Any]) -> web.Response:
    return web.json_response(
        {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": int(_ms())}
    )
