"""A fake Kraken spot exchange: an exchange with weaker guarantees, through ccxt's own client.

What it follows, page by page (docs.kraken.com):
- Authentication (guides/spot/rest/auth): `API-Key` and `API-Sign` = base64 HMAC-SHA512 of
  path + SHA256(nonce + POST body), keyed with the base64-decoded secret.
- AddOrder (api-reference/trading/add-order): answers `txid` only, no fill; `cl_ord_id` is
  the client's id, `userref` an optional integer.
- cl_ord_id (exchange/guides/general/clordid): "Kraken verifies cl_ord_id uniqueness across
  open orders for each client": a filled order's id may be used again.
- QueryOrders (api-reference/account-data/query-orders-info): `txid` is required; `userref`
  filters by the integer reference. What Kraken answers to an empty txid with a text userref
  (what ccxt sends for a lookup by client id) the docs do not say: the fake answers
  `EGeneral:Invalid arguments`, unconfirmed.
- Errors come as HTTP 200 with `{"error": ["EOrder:..."]}` (api-reference, every endpoint).
Market orders fill at once at the ask or bid with a 0.26% fee in the quote currency (the
fee schedule's first tier; an account's actual tier is unconfirmed).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.background import BackgroundServer, ServedFake, routed_app

API_KEY = "fake-kraken-api-key"
SECRET = base64.b64encode(b"fake-kraken-secret-value").decode()
PAIR = "XXBTZUSD"
PRICE, SPREAD, FEE = Decimal(60000), Decimal(6), Decimal("0.0026")
FORM: web.RequestKey[dict[str, str]] = web.RequestKey("form", dict)


class KrakenError(Exception):
    pass


@dataclass
class KrakenOrder:
    txid: str
    cl_ord_id: str
    side: str
    ordertype: str
    volume: Decimal
    request: dict[str, str]
    status: str = "open"
    executed: Decimal = Decimal(0)
    price: Decimal = Decimal(0)
    opened: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        cost = self.executed * self.price
        return {
            "refid": None, "userref": None, "cl_ord_id": self.cl_ord_id or None,
            "status": self.status, "reason": None, "opentm": self.opened,
            "closetm": self.opened if self.status == "closed" else 0, "starttm": 0,
            "expiretm": 0,
            "descr": {"pair": "XBTUSD", "type": self.side, "ordertype": self.ordertype,
                      "price": self.request.get("price", "0"), "price2": "0",
                      "leverage": "none", "order": f"{self.side} {self.volume} XBTUSD",
                      "close": ""},
            "vol": str(self.volume), "vol_exec": str(self.executed), "cost": str(cost),
            "fee": str(cost * FEE), "price": str(self.price), "stopprice": "0",
            "limitprice": "0", "misc": "", "oflags": "fciq",
        }  # fmt: skip


class FakeKraken(ServedFake):
    def __init__(self) -> None:
        self.orders: list[KrakenOrder] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.answer_delay = 0.0
        """Seconds every AddOrder answer is held after the order was placed (a lost answer)."""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app)

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [form for _, p, form in self.requests if p == path]

    def _app(self) -> web.Application:
        return routed_app(self._middleware, [
            ("GET", "/0/public/Time", self._time),
            ("GET", "/0/public/AssetPairs", self._pairs),
            ("GET", "/0/public/Assets", self._assets),
            ("GET", "/0/public/Ticker", self._ticker),
            ("POST", "/0/private/BalanceEx", self._balance),
            ("POST", "/0/private/AddOrder", self._add_order),
            ("POST", "/0/private/QueryOrders", self._query_orders),
            ("POST", "/0/private/OpenOrders", self._open_orders),
        ])

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.text()
        form = dict(parse_qsl(body)) if request.method == "POST" else dict(request.query)
        self.requests.append((request.method, request.path, form))
        try:
            if request.path.startswith("/0/private/"):
                self._check_signature(request, body, form)
            request[FORM] = form
            result = await handler(request)
        except KrakenError as exc:
            return web.json_response({"error": [str(exc)]})
        if request.path == "/0/private/AddOrder" and self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return web.json_response({"error": [], "result": result})

    def _check_signature(self, request: web.Request, body: str, form: dict[str, str]) -> None:
        if request.headers.get("API-Key") != API_KEY:
            raise KrakenError("EAPI:Invalid key")
        digest = hashlib.sha256((form.get("nonce", "") + body).encode()).digest()
        mac = hmac.new(base64.b64decode(SECRET), request.path.encode() + digest, hashlib.sha512)
        if not hmac.compare_digest(request.headers.get("API-Sign", ""),
                                   base64.b64encode(mac.digest()).decode()):  # fmt: skip
            raise KrakenError("EAPI:Invalid signature")

    async def _time(self, request: web.Request) -> dict[str, Any]:
        return {"unixtime": int(time.time()), "rfc1123": ""}

    async def _pairs(self, request: web.Request) -> dict[str, Any]:
        return {PAIR: {
            "altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
            "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5,
            "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [],
            "leverage_sell": [], "fees": [[0, 0.26]], "fees_maker": [[0, 0.16]],
            "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
            "ordermin": "0.0001", "costmin": "0.5", "tick_size": "0.1", "status": "online",
        }}  # fmt: skip

    async def _assets(self, request: web.Request) -> dict[str, Any]:
        def asset(altname: str, decimals: int) -> dict[str, Any]:
            return {"aclass": "currency", "altname": altname, "decimals": decimals,
                    "display_decimals": 5, "status": "enabled"}  # fmt: skip

        return {"XXBT": asset("XBT", 10), "ZUSD": asset("USD", 4)}

    async def _ticker(self, request: web.Request) -> dict[str, Any]:
        last = str(PRICE)
        return {PAIR: {
            "a": [str(PRICE + SPREAD), "1", "1.000"], "b": [str(PRICE - SPREAD), "1", "1.000"],
            "c": [last, "0.001"], "v": ["1", "1"], "p": [last, last], "t": [1, 1],
            "l": [last, last], "h": [last, last], "o": last,
        }}  # fmt: skip

    async def _balance(self, request: web.Request) -> dict[str, Any]:
        return {"ZUSD": {"balance": "100000.0000", "hold_trade": "0.0000"},
                "XXBT": {"balance": "1.0000000000", "hold_trade": "0.0000000000"}}  # fmt: skip

    async def _add_order(self, request: web.Request) -> dict[str, Any]:
        form = request[FORM]
        with self._lock:
            cl_ord_id = form.get("cl_ord_id", "")
            taken = {o.cl_ord_id for o in self.orders if o.status == "open"}
            if cl_ord_id and cl_ord_id in taken:
                raise KrakenError("EOrder:Duplicate order")  # text unconfirmed
            order = KrakenOrder(
                f"O{next(self._ids):05d}-FAKE-KRAKEN", cl_ord_id, form.get("type", ""),
                form.get("ordertype", ""), Decimal(form.get("volume", "0")), dict(form),
            )
            if order.ordertype == "market":
                order.status, order.executed = "closed", order.volume
                order.price = PRICE + SPREAD if order.side == "buy" else PRICE - SPREAD
            self.orders.append(order)
        return {"descr": {"order": f"{order.side} {order.volume} XBTUSD @ {order.ordertype}"},
                "txid": [order.txid]}  # fmt: skip

    async def _query_orders(self, request: web.Request) -> dict[str, Any]:
        form = request[FORM]
        wanted = [t for t in form.get("txid", "").split(",") if t]
        userref = form.get("userref")
        if not wanted or (userref is not None and not userref.lstrip("-").isdigit()):
            raise KrakenError("EGeneral:Invalid arguments")
        return {o.txid: o.as_json() for o in self.orders if o.txid in wanted}

    async def _open_orders(self, request: web.Request) -> dict[str, Any]:
        return {"open": {o.txid: o.as_json() for o in self.orders if o.status == "open"}}
