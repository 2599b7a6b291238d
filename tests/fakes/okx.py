"""A fake OKX account with perpetual swaps, speaking the v5 REST API as ccxt calls it.

Rules and their pages (https://www.okx.com/docs-v5/en/):
- REST authentication ("Making requests"): OK-ACCESS-KEY, -PASSPHRASE, -TIMESTAMP and -SIGN =
  base64 HMAC-SHA256 of timestamp + method + path with query + body.
- "Place order": `clOrdId` up to 32 letters and digits; the fake refuses one used by any earlier
  order (51016) - whether OKX checks all orders or only pending ones is unconfirmed. Per-order
  errors come as code 1 with `sCode`/`sMsg` in `data`.
- "Get positions": one-way (net) mode, `pos` in contracts of `ctVal` base currency.
- `reduceOnly` orders that would not reduce the position are refused (51169).
- "Place algo order" and the algo list, cancel and triggering: see `okx_algo`.
Market orders fill at once at the ask or bid (the fake's spread; OKX's book is unconfirmed).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from aiohttp import web

from tests.fakes import okx_algo
from tests.fakes.background import BackgroundServer, ServedFake, routed_app
from tests.fakes.okx_book import INSTRUMENTS, Instrument, OkxOrder

API_KEY = "fake-okx-api-key"
SECRET = "fake-okx-secret-value"
PASSPHRASE = "fake-okx-passphrase"
PAYLOAD: web.RequestKey[Any] = web.RequestKey("payload", object)


class OkxFailure(StrEnum):
    RATE_LIMIT = "rate_limit"
    """429 with code 50011 for the next order; nothing is placed."""
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    """The next order is placed, but the answer comes only after `answer_delay` seconds."""


ORDER_PATHS = ("/api/v5/trade/order", "/api/v5/trade/batch-orders")
"""The requests that place orders, and the ones `FakeOkx.fail_next` fails."""


def _now_ms() -> str:
    return str(int(time.time() * 1000))


class OkxError(Exception):
    """An error answer; codes 51xxx are per-order (`sCode` in `data`), as OKX sends them."""

    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


class FakeOkx(ServedFake):
    def __init__(self) -> None:
        self.positions: dict[str, Decimal] = {}
        """Net contracts by instrument: positive long, negative short."""
        self.orders: list[OkxOrder] = []
        self.algo_orders: list[dict[str, Any]] = []
        """Algo orders as sent, with `algoId`, `state` and the price when placed (`okx_algo`)."""
        self.instruments = dict(INSTRUMENTS)
        self.requests: list[tuple[str, str, Any]] = []
        self.answer_delay = 3.0
        self._failures: list[OkxFailure] = []
        self._ids = itertools.count(5000)
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app)

    def order_by_client_id(self, cl_ord_id: str) -> OkxOrder | None:
        return next((o for o in self.orders if o.cl_ord_id == cl_ord_id), None)

    def fail_next(self, failure: OkxFailure) -> None:
        """Fail the next order request (`POST trade/order` or `trade/batch-orders`)."""
        with self._lock:
            self._failures.append(failure)

    def recover(self) -> None:
        """Forget the failures not yet used."""
        with self._lock:
            self._failures.clear()

    def _app(self) -> web.Application:
        return routed_app(self._middleware, [
            ("GET", "/api/v5/public/time", self._time),
            ("GET", "/api/v5/public/instruments", self._instruments),
            ("GET", "/api/v5/market/ticker", self._ticker),
            ("GET", "/api/v5/asset/currencies", self._empty),
            ("GET", "/api/v5/account/balance", self._balance),
            ("GET", "/api/v5/account/positions", self._positions),
            ("POST", "/api/v5/trade/order", self._place_one),
            ("POST", "/api/v5/trade/batch-orders", self._place_batch),
            ("POST", "/api/v5/trade/order-algo", self._place_algo),
            ("GET", "/api/v5/trade/orders-algo-pending", self._algo_pending),
            ("POST", "/api/v5/trade/cancel-algos", self._cancel_algos),
            ("GET", "/api/v5/trade/order", self._query),
            ("GET", "/api/v5/trade/orders-pending", self._pending),
            ("POST", "/api/v5/trade/cancel-order", self._cancel_one),
            ("POST", "/api/v5/trade/cancel-batch-orders", self._cancel_batch),
        ])

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.text()
        payload = json.loads(body) if body else dict(request.query)
        self.requests.append((request.method, request.path, payload))
        failure = self._take_failure(request.path)
        try:
            if not request.path.startswith(("/api/v5/public/", "/api/v5/market/")):
                self._check_signature(request, body)
            if failure is OkxFailure.RATE_LIMIT:
                raise OkxError("50011", "Too Many Requests", 429)
            request[PAYLOAD] = payload
            response: web.StreamResponse = await handler(request)
        except OkxError as exc:
            data = [{"sCode": exc.code, "sMsg": exc.msg}] if exc.code.startswith("51") else []
            answer = {"code": "1" if data else exc.code, "msg": exc.msg, "data": data}
            return web.json_response(answer, status=exc.status)
        if failure is OkxFailure.TIMEOUT_AFTER_ACCEPT:
            await asyncio.sleep(self.answer_delay)
        return response

    def _take_failure(self, path: str) -> OkxFailure | None:
        with self._lock:
            if path in ORDER_PATHS and self._failures:
                return self._failures.pop(0)
        return None

    def _check_signature(self, request: web.Request, body: str) -> None:
        headers = request.headers
        if headers.get("OK-ACCESS-KEY") != API_KEY:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY", 401)
        if headers.get("OK-ACCESS-PASSPHRASE") != PASSPHRASE:
            raise OkxError("50105", "Invalid OK-ACCESS-PASSPHRASE", 401)
        text = (
            f"{headers.get('OK-ACCESS-TIMESTAMP', '')}{request.method}"
            f"{request.rel_url.raw_path_qs}{body}"
        )
        digest = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()
        expected = base64.b64encode(digest).decode()
        if not hmac.compare_digest(headers.get("OK-ACCESS-SIGN", ""), expected):
            raise OkxError("50113", "Invalid Sign", 401)

    async def _time(self, request: web.Request) -> web.Response:
        return _ok([{"ts": _now_ms()}])

    async def _empty(self, request: web.Request) -> web.Response:
        return _ok([])

    async def _instruments(self, request: web.Request) -> web.Response:
        kind = request[PAYLOAD].get("instType")
        return _ok([i.as_json() for i in self.instruments.values() if i.inst_type == kind])

    async def _ticker(self, request: web.Request) -> web.Response:
        inst = self._instrument(request[PAYLOAD].get("instId", ""))
        (bid, ask), last = inst.quote_prices(), str(inst.price)
        return _ok([{
            "instType": inst.inst_type, "instId": inst.inst_id, "last": last, "lastSz": "1",
            "askPx": str(ask), "askSz": "10", "bidPx": str(bid), "bidSz": "10", "open24h": last,
            "high24h": last, "low24h": last, "volCcy24h": "100", "vol24h": "10000",
            "ts": _now_ms(), "sodUtc0": last, "sodUtc8": last,
        }])  # fmt: skip

    async def _balance(self, request: web.Request) -> web.Response:
        usdt = {"ccy": "USDT", "availBal": "100000", "availEq": "100000", "cashBal": "100000",
                "eq": "100000", "frozenBal": "0", "ordFrozen": "0", "uTime": _now_ms()}  # fmt: skip
        return _ok([{"totalEq": "100000", "details": [usdt], "uTime": _now_ms()}])

    async def _positions(self, request: web.Request) -> web.Response:
        wanted = request[PAYLOAD].get("instId")
        found = []
        for inst_id, contracts in self.positions.items():
            if not contracts or (wanted and inst_id not in wanted.split(",")):
                continue
            inst = self.instruments[inst_id]
            price = str(inst.price)
            notional = str(abs(contracts) * inst.ct_val * inst.price)
            found.append({
                "instType": "SWAP", "instId": inst_id, "pos": str(contracts), "posSide": "net",
                "avgPx": price, "mgnMode": "cross", "lever": "10", "upl": "0", "uplRatio": "0",
                "notionalUsd": notional, "markPx": price, "last": price, "liqPx": "",
                "margin": "", "imr": "100", "mmr": "10", "mgnRatio": "10", "ccy": "USDT",
                "posId": "1", "adl": "1", "realizedPnl": "0", "cTime": _now_ms(),
                "uTime": _now_ms(), "availPos": "", "interest": "0", "tradeId": "1",
            })  # fmt: skip
        return _ok(found)

    async def _place_one(self, request: web.Request) -> web.Response:
        return _ok([self._place(request[PAYLOAD])])

    async def _place_batch(self, request: web.Request) -> web.Response:
        return _ok([self._place(entry) for entry in request[PAYLOAD]])

    async def _place_algo(self, request: web.Request) -> web.Response:
        payload = request[PAYLOAD]
        with self._lock:
            inst = self._instrument(payload.get("instId", ""))
            refused = okx_algo.misplaced_stop(payload, inst.price)
            if refused is not None:
                raise OkxError(*refused)
            algo_id = str(next(self._ids))
            self.algo_orders.append(payload | {"algoId": algo_id, "state": "live",
                                               "placedPx": str(inst.price), "cTime": _now_ms()})
        return _ok([{"algoId": algo_id, "algoClOrdId": payload.get("algoClOrdId", ""),
                     "clOrdId": payload.get("clOrdId", ""), "sCode": "0", "sMsg": ""}])  # fmt: skip

    async def _algo_pending(self, request: web.Request) -> web.Response:
        try:
            return _ok(okx_algo.pending(self.algo_orders, request[PAYLOAD]))
        except ValueError as exc:
            raise OkxError("51000", "Parameter ordType error") from exc

    async def _cancel_algos(self, request: web.Request) -> web.Response:
        answers = []
        with self._lock:
            for entry in request[PAYLOAD]:
                algo = next((a for a in self.algo_orders if a["algoId"] == entry.get("algoId")
                             and a["state"] == "live"), None)  # fmt: skip
                if algo is None:
                    raise OkxError("51400", "Cancellation failed: the order does not exist")
                algo["state"] = "canceled"
                answers.append({"algoId": algo["algoId"], "sCode": "0", "sMsg": ""})
        return _ok(answers)

    def move_price(self, inst_id: str, price: Decimal) -> list[dict[str, Any]]:
        """Set the last price; the live algo orders it crosses trigger and place their market
        orders (an oco ends with whichever leg triggered). Returns the triggered ones."""
        with self._lock:
            self.instruments[inst_id] = replace(self.instruments[inst_id], price=price)
            triggered = [a for a in self.algo_orders
                         if a["instId"] == inst_id and okx_algo.fired(a, price)]  # fmt: skip
            for algo in triggered:
                algo["state"] = "effective"
        for algo in triggered:
            try:
                self._place(okx_algo.market_order_of(algo))
            except OkxError:
                algo["state"] = "order_failed"
        return triggered

    async def _query(self, request: web.Request) -> web.Response:
        asked = request[PAYLOAD]
        for order in self.orders:
            if (
                order.inst_id == asked.get("instId")
                and asked.get("ordId", order.ord_id) == order.ord_id
                and asked.get("clOrdId", order.cl_ord_id) == order.cl_ord_id
            ):
                return _ok([order.as_json()])
        raise OkxError("51603", "Order does not exist")

    async def _pending(self, request: web.Request) -> web.Response:
        inst_id = request[PAYLOAD].get("instId")
        live = [o for o in self.orders if o.state == "live" and inst_id in (None, o.inst_id)]
        return _ok([o.as_json() for o in live])

    async def _cancel_one(self, request: web.Request) -> web.Response:
        return _ok([self._cancel(request[PAYLOAD])])

    async def _cancel_batch(self, request: web.Request) -> web.Response:
        return _ok([self._cancel(entry) for entry in request[PAYLOAD]])

    def _instrument(self, inst_id: str) -> Instrument:
        inst = self.instruments.get(inst_id)
        if inst is None:
            raise OkxError("51001", "Instrument ID does not exist")
        return inst

    def _place(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            inst = self._instrument(entry.get("instId", ""))
            size = Decimal(entry.get("sz", "0"))
            if size < inst.min_size or size % inst.lot:
                raise OkxError("51121", f"Order quantity must be a multiple of {inst.lot}")
            cl_ord_id = entry.get("clOrdId") or f"fake{next(self._ids)}"
            if self.order_by_client_id(cl_ord_id) is not None:
                raise OkxError("51016", "Duplicated clOrdId")
            side = entry.get("side", "")
            signed = size if side == "buy" else -size
            held = self.positions.get(inst.inst_id, Decimal(0))
            reducing = held != 0 and held * signed < 0 and abs(signed) <= abs(held)
            if str(entry.get("reduceOnly", "")).lower() == "true" and not reducing:
                raise OkxError("51169", "You don't have any positions in this direction to close")
            order = OkxOrder(str(next(self._ids)), cl_ord_id, inst.inst_id, side,
                             entry.get("ordType", ""), size, dict(entry))  # fmt: skip
            if order.ord_type == "market":
                bid, ask = inst.quote_prices()
                order.state, order.filled = "filled", size
                order.avg_price = ask if side == "buy" else bid
                self.positions[inst.inst_id] = held + signed
                for algo in okx_algo.attached(entry, str(size), str(inst.price)):
                    self.algo_orders.append(algo | {"algoId": str(next(self._ids)),
                                                    "cTime": _now_ms()})  # fmt: skip
            self.orders.append(order)
            return {"clOrdId": cl_ord_id, "ordId": order.ord_id, "tag": entry.get("tag", ""),
                    "ts": order.created_ms, "sCode": "0", "sMsg": "Order placed"}  # fmt: skip

    def _cancel(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for order in self.orders:
                if order.ord_id == entry.get("ordId") and order.state == "live":
                    order.state = "canceled"
                    return {"ordId": order.ord_id, "clOrdId": order.cl_ord_id, "sCode": "0",
                            "sMsg": ""}  # fmt: skip
        raise OkxError("51400", "Cancellation failed: the order is filled, canceled or unknown")


def _ok(data: list[dict[str, Any]]) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})
