"""The fake Binance spot exchange's markets, balances and orders, and its matching rules.

Market orders and marketable limit orders fill at once at the ask (buys) or bid (sells), less a
0.1% commission in the asset received; other orders rest and lock what they could spend. Orders
must pass the LOT_SIZE, PRICE_FILTER and NOTIONAL filters that `symbol_info` publishes
(https://developers.binance.com/docs/binance-spot-api-docs/filters), and a client order id may
not repeat one of an open order (see `SpotBook.client_id_scope`). The 0.1% commission and its
asset are the fake's choice: Binance's depends on the account (the docs list it per account in
GET /api/v3/account), so it is unconfirmed as a number.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

COMMISSION = Decimal("0.001")
SPREAD = Decimal("0.0001")
INSUFFICIENT = "Account has insufficient balance for requested action."


@dataclass(frozen=True)
class SpotMarket:
    symbol: str
    base: str
    quote: str
    price: Decimal
    step: Decimal
    min_qty: Decimal
    tick: Decimal
    min_notional: Decimal


MARKETS = {
    m.symbol: m
    for m in (
        SpotMarket("BTCUSDT", "BTC", "USDT", Decimal(60000), Decimal("0.00001"),
                   Decimal("0.00001"), Decimal("0.01"), Decimal(5)),
        SpotMarket("ETHUSDT", "ETH", "USDT", Decimal(3000), Decimal("0.0001"), Decimal("0.001"),
                   Decimal("0.01"), Decimal(5)),
        SpotMarket("ETHBTC", "ETH", "BTC", Decimal("0.05"), Decimal("0.0001"), Decimal("0.0001"),
                   Decimal("0.00001"), Decimal("0.0001")),
    )
}  # fmt: skip


class BinanceError(Exception):
    """An error answer: HTTP status, Binance code and message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class FakeOrder:
    """An order as the fake exchange holds it; `params` is the request exactly as sent."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    params: dict[str, str]
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote_executed: Decimal = Decimal(0)
    order_list_id: int = -1
    time_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def as_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "clientOrderId": self.client_order_id,
            "price": str(self.price),
            "origQty": str(self.quantity),
            "executedQty": str(self.executed),
            "cummulativeQuoteQty": str(self.quote_executed),
            "status": self.status,
            "timeInForce": self.params.get("timeInForce", "GTC"),
            "type": self.type,
            "side": self.side,
            "stopPrice": str(self.stop_price),
            "icebergQty": "0.00000000",
            "time": self.time_ms,
            "updateTime": self.time_ms,
            "isWorking": True,
            "workingTime": self.time_ms,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


class SpotBook:
    """Balances and orders of one account. Methods take the lock themselves."""

    def __init__(self) -> None:
        self.balances = {"USDT": Decimal(100000), "BTC": Decimal(1), "ETH": Decimal(10)}
        """Free amounts."""
        self.locked: dict[str, Decimal] = {}
        self.prices = {symbol: market.price for symbol, market in MARKETS.items()}
        self.orders: list[FakeOrder] = []
        self.order_lists: list[dict[str, Any]] = []
        self.ids = itertools.count(1000)
        self.lock = threading.Lock()
        self.client_id_scope: Literal["all", "open"] = "open"
        """Which earlier orders a new client order id must not repeat. "open", as Binance
        documents `newClientOrderId` ("A unique id among open orders. Automatically generated
        if not sent.", POST /api/v3/order in
        https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints):
        sending a filled order's id again places a second order. "all" is stricter than
        Binance, for tests that need it."""
        self.fills: dict[int, list[dict[str, Any]]] = {}
        """The trades of each order, by order id, as GET /api/v3/myTrades lists them."""
        self.liquidity: Decimal | None = None
        """The most base currency a marketable order finds in the book (None: no limit). The
        rest of a MARKET order expires: status EXPIRED is "canceled according to the order
        type's rules (e.g. ... LIMIT IOC or MARKET orders that partially fill)" (Order status,
        https://developers.binance.com/docs/binance-spot-api-docs/enums)."""

    def market(self, symbol: str) -> SpotMarket:
        market = MARKETS.get(symbol)
        if market is None:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return market

    def quote(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(bid, ask) around the last price."""
        last, tick = self.prices[symbol], MARKETS[symbol].tick
        return (last * (1 - SPREAD)).quantize(tick), (last * (1 + SPREAD)).quantize(tick)

    def by_client_id(self, client_order_id: str) -> FakeOrder | None:
        return next((o for o in self.orders if o.client_order_id == client_order_id), None)

    def place(self, params: dict[str, str]) -> FakeOrder:
        with self.lock:
            return self._place(params)

    def place_oco(self, params: dict[str, str]) -> tuple[int, list[FakeOrder]]:
        """A sell OCO: a LIMIT_MAKER above and a STOP_LOSS below, sharing the quantity."""
        with self.lock:
            market = self.market(params.get("symbol", ""))
            if params.get("side") != "SELL" or params.get("aboveType") != "LIMIT_MAKER":
                raise BinanceError(400, -1106, "The fake supports sell OCOs with a LIMIT_MAKER.")
            quantity = self._check_quantity(market, params.get("quantity", "0"))
            above = self._check_price(market, params.get("abovePrice", "0"))
            below = self._check_price(market, params.get("belowStopPrice", "0"))
            ids = [params.get(k, "") for k in ("aboveClientOrderId", "belowClientOrderId")]
            self._check_client_ids([i for i in ids if i])
            self._lock_funds(market.base, quantity)
            list_id = next(self.ids)
            legs = [
                self._record(market, "SELL", "LIMIT_MAKER", quantity, above, Decimal(0), ids[0],
                             params),
                self._record(market, "SELL", "STOP_LOSS", quantity, Decimal(0), below, ids[1],
                             params),
            ]  # fmt: skip
            for leg in legs:
                leg.order_list_id = list_id
            self.order_lists.append({"orderListId": list_id, "legs": legs, "params": params})
            return list_id, legs

    def find(self, params: dict[str, str], code: int = -2013) -> FakeOrder:
        """The order named by `orderId` or `origClientOrderId` on `symbol`."""
        for order in self.orders:
            if order.symbol == params.get("symbol") and (
                str(order.order_id) == params.get("orderId")
                or order.client_order_id == params.get("origClientOrderId")
            ):
                return order
        raise BinanceError(
            400, code, "Order does not exist." if code == -2013 else "Unknown order sent."
        )

    def cancel(self, orders: list[FakeOrder]) -> None:
        """Cancel these orders; one already closed (an OCO's other leg) is left as it is."""
        with self.lock:
            for order in orders:
                if order.is_open:
                    self._cancel(order)

    def _place(self, params: dict[str, str]) -> FakeOrder:
        market = self.market(params.get("symbol", ""))
        side, order_type = params.get("side", ""), params.get("type", "")
        quantity = self._check_quantity(market, params.get("quantity", "0"))
        price = self._check_price(market, params["price"]) if "price" in params else Decimal(0)
        stop = self._check_price(market, params["stopPrice"]) if "stopPrice" in params else 0
        client_id = params.get("newClientOrderId") or f"fake{next(self.ids)}"
        self._check_client_ids([client_id])
        bid, ask = self.quote(market.symbol)
        fill_price = ask if side == "BUY" else bid
        marketable = order_type == "MARKET" or (
            order_type == "LIMIT" and (price >= ask if side == "BUY" else price <= bid)
        )
        if quantity * (price or stop or fill_price) < market.min_notional:
            raise BinanceError(400, -1013, "Filter failure: NOTIONAL")
        if not marketable:
            spend = (market.quote, quantity * (price or stop))
            self._lock_funds(*(spend if side == "BUY" else (market.base, quantity)))
            return self._record(market, side, order_type, quantity, price, Decimal(stop),
                                client_id, params)  # fmt: skip
        filled = quantity if self.liquidity is None else min(quantity, self.liquidity)
        self._settle(market, side, filled, fill_price)
        order = self._record(market, side, order_type, quantity, price, Decimal(stop), client_id,
                             params)  # fmt: skip
        order.status = "FILLED" if filled == quantity else "EXPIRED"
        order.executed, order.quote_executed = filled, filled * fill_price
        return order

    def _check_quantity(self, market: SpotMarket, text: str) -> Decimal:
        quantity = Decimal(text)
        if quantity < market.min_qty or quantity % market.step:
            raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")
        return quantity

    def _check_price(self, market: SpotMarket, text: str) -> Decimal:
        price = Decimal(text)
        if price <= 0 or price % market.tick:
            raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")
        return price

    def _check_client_ids(self, client_ids: list[str]) -> None:
        taken = {
            o.client_order_id for o in self.orders if o.is_open or self.client_id_scope == "all"
        }
        if taken.intersection(client_ids):
            raise BinanceError(400, -2010, "Duplicate order sent.")

    def _record(
        self,
        market: SpotMarket,
        side: str,
        order_type: str,
        quantity: Decimal,
        price: Decimal,
        stop: Decimal,
        client_id: str,
        params: dict[str, str],
    ) -> FakeOrder:
        order = FakeOrder(next(self.ids), client_id, market.symbol, side, order_type, quantity,
                          price, stop, dict(params))  # fmt: skip
        self.orders.append(order)
        return order

    def _settle(self, market: SpotMarket, side: str, quantity: Decimal, price: Decimal) -> None:
        cost = quantity * price
        if side == "BUY":
            self._spend(market.quote, cost)
            self._credit(market.base, quantity * (1 - COMMISSION))
        else:
            self._spend(market.base, quantity)
            self._credit(market.quote, cost * (1 - COMMISSION))

    def _spend(self, asset: str, amount: Decimal) -> None:
        if self.balances.get(asset, Decimal(0)) < amount:
            raise BinanceError(400, -2010, INSUFFICIENT)
        self.balances[asset] -= amount

    def _credit(self, asset: str, amount: Decimal) -> None:
        self.balances[asset] = self.balances.get(asset, Decimal(0)) + amount

    def _lock_funds(self, asset: str, amount: Decimal) -> None:
        self._spend(asset, amount)
        self.locked[asset] = self.locked.get(asset, Decimal(0)) + amount

    def _cancel(self, order: FakeOrder) -> None:
        """Cancel an order (and the rest of its OCO) and free what it locked."""
        market = MARKETS[order.symbol]
        legs = [o for o in self.orders if o.order_list_id == order.order_list_id]
        for leg in legs if order.order_list_id != -1 else [order]:
            leg.status = "CANCELED"
        if order.side == "BUY":
            asset, amount = market.quote, order.quantity * (order.price or order.stop_price)
        else:
            asset, amount = market.base, order.quantity
        self.locked[asset] -= amount
        self._credit(asset, amount)


def symbol_info(market: SpotMarket) -> dict[str, Any]:
    """The market as `GET /api/v3/exchangeInfo` lists it, with its filters."""
    return {
        "symbol": market.symbol,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                       "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": str(market.tick),
             "maxPrice": "1000000.00000000", "tickSize": str(market.tick)},
            {"filterType": "LOT_SIZE", "minQty": str(market.min_qty), "maxQty": "9000.00000000",
             "stepSize": str(market.step)},
            {"filterType": "NOTIONAL", "minNotional": str(market.min_notional),
             "applyMinToMarket": True, "maxNotional": "9000000.00000000",
             "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000",
             "stepSize": "0.00000000"},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }  # fmt: skip
