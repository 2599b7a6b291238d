"""The calls tradehook makes to a ccxt exchange, each with its failures translated.

`ExchangeTrader.create` is the only place an order is sent. It passes the client order id derived
from the signal id, and when the exchange says that id was used before, it returns the order that
already carries it instead of failing: a resend can never become a second order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import ccxt.async_support as ccxt

from plugins.ccxt.client_ids import derive_client_order_id, rule_for
from plugins.ccxt.config import CcxtConfig
from plugins.ccxt.errors import is_duplicate_client_id, translated
from plugins.ccxt.guarantees import ExchangeGuarantees, guarantees_for
from plugins.ccxt.results import CcxtOrder
from plugins.ccxt.symbols import Market, market_kind
from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
from plugins.orders import OrderSide
from plugins.redaction import Redactor

_TRIGGERS = {"triggerPrice", "stopLossPrice", "takeProfitPrice"}
PROOF_MARGIN = 1.0
"""Seconds added to the receive window before a "not found" counts as proof: clock drift
between us and the exchange after ccxt's time adjustment, and the time to sign and send."""


@dataclass(frozen=True)
class Ticket:
    """One order as ccxt's `create_order` takes it, amounts and prices already at precision."""

    symbol: str
    type: str
    side: OrderSide
    amount: str
    price: str | None = None
    client_order_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Position:
    side: OrderSide
    """BUY for a long position, SELL for a short one."""
    contracts: float


class ExchangeTrader:
    def __init__(self, exchange: Any, config: CcxtConfig, redact: Redactor) -> None:
        self.exchange = exchange
        self.config = config
        self.redact = redact
        self._rule = rule_for(config.exchange)
        self.guarantees: ExchangeGuarantees = guarantees_for(config.exchange)
        self._symbol_of: dict[str, str] = {}
        self.clock: Callable[[], float] = time.monotonic
        """Seconds, monotonic; tests replace it to let a receive window pass."""
        self._started = self.clock()
        self._sent_at: dict[str, float] = {}
        """When each client id was last sent; an id sent by an earlier process counts as sent
        before this one started."""
        self._kept_apart: set[str] = set()
        """Client ids of trigger orders on contract markets, which some exchanges (okx, binance
        futures) keep apart from ordinary orders, where a lookup by client id may not see them."""

    @property
    def exchange_id(self) -> str:
        return self.config.exchange

    def client_id(self, signal_id: str | None, suffix: str = "") -> str | None:
        if signal_id is None:
            return None
        return derive_client_order_id(signal_id, self._rule, suffix)

    def symbol_sent_with(self, client_id: str) -> str | None:
        return self._symbol_of.get(client_id)

    def translating(self, what: str, *, sent: bool) -> AbstractContextManager[None]:
        """Around a call to the exchange: its failures raised as ours (see `errors`)."""
        return translated(what, sent=sent, redact=self.redact, exchange=self.exchange)

    async def create(self, ticket: Ticket, what: str) -> CcxtOrder:
        params = dict(ticket.params)
        if ticket.client_order_id is not None:
            row = self.guarantees
            market = self.exchange.markets.get(ticket.symbol) or {}
            apart = market_kind(market) in row.triggers_kept_apart and bool(_TRIGGERS & set(params))
            key = row.trigger_client_id_param if apart else None
            params[key or row.client_id_param] = ticket.client_order_id
            self._symbol_of[ticket.client_order_id] = ticket.symbol
            self._sent_at[ticket.client_order_id] = self.clock()
            if apart:
                self._kept_apart.add(ticket.client_order_id)
        amount = float(ticket.amount)
        price = float(ticket.price) if ticket.price is not None else None
        with self.translating(what, sent=True):
            try:
                raw = await self.exchange.create_order(
                    ticket.symbol, ticket.type, ticket.side.value, amount, price, params
                )
            except Exception as exc:
                if ticket.client_order_id is not None and is_duplicate_client_id(exc):
                    existing = await self.find(ticket.client_order_id, ticket.symbol)
                    if existing is not None:
                        return existing
                raise
        order = CcxtOrder.parse(raw)
        if order.status is None and order.id is not None:
            order = await self._refresh(order, ticket.symbol)
        if order.client_order_id is None:
            order = order.model_copy(update={"client_order_id": ticket.client_order_id})
        return order

    async def find(self, client_id: str, symbol: str | None) -> CcxtOrder | None:
        """The order carrying this client order id, None when the exchange certainly has none.

        Raises `TemporaryError` when the exchange could not answer now, or when its "not found"
        is not proof yet (an order sent within the receive window may still be carried out);
        `OutcomeUnknown` when it cannot be asked at all (e.g. it needs the symbol and none is
        known), answers with an order that carries another id, or its "not found" is never
        proof (an exchange whose guarantees row trusts no lookup)."""
        what = f"look up client order id {client_id} on {self.exchange_id}"
        try:
            with self.translating(what, sent=False):
                try:
                    raw = await self.exchange.fetch_order_with_client_order_id(client_id, symbol)
                except ccxt.OrderNotFound as exc:
                    if client_id in self._kept_apart:
                        raise OutcomeUnknown(
                            f"cannot {what}: it is a trigger order, which {self.exchange_id} may "
                            "keep apart from the orders a lookup by client id sees; check it by "
                            "hand"
                        ) from exc
                    if not self.guarantees.lookup_by_client_id:
                        raise OutcomeUnknown(
                            f"cannot {what}: {self.exchange_id}'s \"not found\" proves nothing "
                            f"({self.guarantees.lookup}); check it by hand"
                        ) from exc
                    self._require_proof(client_id, what)
                    return None
        except OrderRejected as exc:  # the lookup itself was refused: the order may still exist
            raise OutcomeUnknown(f"cannot {what}: {exc}") from exc.__cause__
        order = CcxtOrder.parse(raw)
        if order.client_order_id != client_id:
            raise OutcomeUnknown(
                f"cannot {what}: the exchange answered with order {order.id} carrying client "
                f"order id {order.client_order_id!r}; check by hand"
            )
        return order

    def proof_window(self) -> float:
        """Seconds after a send before the exchange's "not found" proves the order absent."""
        if not self.guarantees.not_found_is_proof_after_recv_window:
            return 0.0
        recv_window = float(self.exchange.options.get("recvWindow") or 5000) / 1000
        return recv_window + PROOF_MARGIN

    def _require_proof(self, client_id: str, what: str) -> None:
        window = self.proof_window()
        sent = self._sent_at.get(client_id, self._started)
        wait = sent + window - self.clock()
        if wait > 0:
            raise TemporaryError(
                f"{what}: not found yet, but {self.exchange_id} may still carry out an order "
                f"sent less than {window:g} s ago (its receive window); asking again in "
                f"{wait:.1f} s",
                retry_after=wait,
            )

    async def received(self, entry: CcxtOrder, market: Market) -> float:
        """What a filled spot buy put in the account, in base currency: the fill less the
        commission taken in base currency. An order as a lookup returns it carries no fills
        (Binance's GET /api/v3/order), so its trades are asked for; when they cannot be, the
        free balance caps it, so that the bracket never sells coins the entry did not buy."""
        filled, base = entry.filled or 0.0, str(market["base"])
        if entry.fees:
            return filled - entry.fee_in(base)
        what = f"trades of order {entry.id} on {self.exchange_id}"
        if entry.id is not None and self.exchange.has.get("fetchOrderTrades"):
            try:
                with self.translating(what, sent=False):
                    trades = await self.exchange.fetch_order_trades(entry.id, market["symbol"])
            except (TemporaryError, OrderRejected):
                trades = None
            if trades:
                fee = sum(
                    float((t.get("fee") or {}).get("cost") or 0.0)
                    for t in trades
                    if (t.get("fee") or {}).get("currency") == base
                )
                return filled - fee
        free, _ = await self.balance(base, what)
        return min(filled, free)

    async def reference_price(self, market: Market, side: OrderSide, what: str) -> float | None:
        """The price a market order would trade at now (ask to buy, bid to sell, else last)."""
        with self.translating(what, sent=False):
            ticker = await self.exchange.fetch_ticker(market["symbol"])
        near = ticker.get("ask") if side is OrderSide.BUY else ticker.get("bid")
        price = near or ticker.get("last") or ticker.get("close")
        return float(price) if price else None

    async def last_price(self, market: Market, what: str) -> float | None:
        """The last traded price, which trigger orders watch unless told otherwise."""
        with self.translating(what, sent=False):
            ticker = await self.exchange.fetch_ticker(market["symbol"])
        price = ticker.get("last") or ticker.get("close")
        return float(price) if price else None

    async def balance(self, currency: str, what: str) -> tuple[float, float]:
        """(free, total) of one currency in the account."""
        with self.translating(what, sent=False):
            balances = await self.exchange.fetch_balance()
        entry = balances.get(currency) or {}
        return float(entry.get("free") or 0.0), float(entry.get("total") or 0.0)

    async def positions(self, market: Market, what: str) -> list[Position]:
        with self.translating(what, sent=False):
            raw = await self.exchange.fetch_positions([market["symbol"]])
        found = []
        for entry in raw:
            contracts = float(entry.get("contracts") or 0.0)
            if entry.get("symbol") != market["symbol"] or contracts <= 0:
                continue
            side = OrderSide.BUY if entry.get("side") == "long" else OrderSide.SELL
            found.append(Position(side, contracts))
        return found

    async def open_orders(self, market: Market, what: str) -> list[CcxtOrder]:
        with self.translating(what, sent=False):
            raw = await self.exchange.fetch_open_orders(market["symbol"])
        return [CcxtOrder.parse(entry) for entry in raw]

    async def trigger_orders(self, market: Market | None, what: str) -> list[CcxtOrder]:
        """The symbol's open trigger orders (stop-loss, take-profit, stop entries), which
        exchanges list apart from ordinary orders; every symbol's when `market` is None."""
        found: list[CcxtOrder] = []
        symbol = market["symbol"] if market is not None else None
        with self.translating(what, sent=False):
            for params in self.guarantees.trigger_listings:
                raw = await self.exchange.fetch_open_orders(symbol, None, None, params)
                found.extend(CcxtOrder.parse(entry) for entry in raw)
        return found

    async def cancel_triggers(self, orders: list[CcxtOrder], market: Market, what: str) -> None:
        with self.translating(what, sent=False):
            for order in orders:
                try:
                    await self.exchange.cancel_order(order.id, market["symbol"], {"trigger": True})
                except ccxt.OrderNotFound:
                    continue

    async def cancel(
        self, orders: list[CcxtOrder], market: Market, what: str, *, every_order: bool
    ) -> None:
        """Cancel these orders (`every_order`: they are all the symbol's open orders, so one
        cancel-all request may do it). A failure is temporary: cancelling again is harmless."""
        symbol = market["symbol"]
        with self.translating(what, sent=False):
            if every_order and self.exchange.has.get("cancelAllOrders"):
                await self.exchange.cancel_all_orders(symbol)
                return
            for order in orders:
                try:
                    await self.exchange.cancel_order(order.id, symbol)
                except ccxt.OrderNotFound:
                    continue

    async def _refresh(self, order: CcxtOrder, symbol: str) -> CcxtOrder:
        """The exchange answered with an id only (okx, bybit): ask once how the order stands."""
        try:
            params = dict(self.guarantees.order_query_params)
            raw = await self.exchange.fetch_order(order.id, symbol, params)
        except Exception:  # noqa: BLE001 - the order exists; without details it counts as placed
            return order
        fresh = CcxtOrder.parse(raw)
        return fresh if fresh.id is not None else order
