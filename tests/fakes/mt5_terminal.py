"""The state of a fake MetaTrader 5 terminal on a hedging account.

Market deals fill at the current bid or ask within the request's deviation; pending orders rest
until `set_tick` moves the price through them; closing deals name the position they reduce.
Every deal, order and position carries the request's magic and comment, as on a real server.
Requests are checked the way the trade server checks them (volume grid, filling mode, stops,
prices) and refused with the documented retcodes. `script` makes the next replies fail in the
ways a real link fails: a retcode without execution, a lost answer, a timeout.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import mt5_structures as c

_OPPOSITE = {c.ORDER_TYPE_BUY: c.ORDER_TYPE_SELL, c.ORDER_TYPE_SELL: c.ORDER_TYPE_BUY}
_PENDING_TYPES = {
    c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT, c.ORDER_TYPE_BUY_STOP,
    c.ORDER_TYPE_SELL_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT,
}
_BUYING = {c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP,
           c.ORDER_TYPE_BUY_STOP_LIMIT}


@dataclass
class Symbol:
    name: str
    bid: float
    ask: float
    digits: int = 5
    volume_min: float = 0.01
    volume_max: float = 100.0
    volume_step: float = 0.01
    filling_mode: int = c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC
    visible: bool = False

    @property
    def point(self) -> float:
        return float(10**-self.digits)

    def info(self) -> c.SymbolInfo:
        return c.SymbolInfo(
            custom=False, select=self.visible, visible=self.visible, digits=self.digits,
            spread=round((self.ask - self.bid) / self.point), trade_mode=c.SYMBOL_TRADE_MODE_FULL,
            trade_exemode=c.SYMBOL_TRADE_EXECUTION_MARKET, trade_stops_level=0,
            filling_mode=self.filling_mode, bid=self.bid, ask=self.ask, last=0.0,
            point=self.point, trade_tick_size=self.point, trade_contract_size=100_000.0,
            volume_min=self.volume_min, volume_max=self.volume_max, volume_step=self.volume_step,
            currency_base=self.name[:3], currency_profit=self.name[3:6], description=self.name,
            name=self.name, path=f"Forex\\{self.name}",
        )


def default_symbols() -> dict[str, Symbol]:
    return {
        s.name: s
        for s in (
            Symbol("EURUSD", 1.08500, 1.08512),
            Symbol("GBPUSD", 1.26400, 1.26415),
            Symbol("XAUUSD", 2350.10, 2350.40, digits=2, filling_mode=c.SYMBOL_FILLING_IOC),
            Symbol("US500", 5000.0, 5000.5, digits=1, volume_min=0.1, volume_step=0.1,
                   filling_mode=0),
        )
    }


@dataclass
class FakeTerminal:
    login: int | None = None
    password: str | None = None
    server: str | None = None
    symbols: dict[str, Symbol] = field(default_factory=default_symbols)
    initialized: bool = False
    connected: bool = True
    trade_allowed: bool = True
    error: tuple[int, str] = (c.RES_S_OK, "Success")
    positions: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    history_orders: list[dict[str, Any]] = field(default_factory=list)
    deals: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[str, int, bool]] = field(default_factory=list)
    latency: float = 0.0
    initialize_calls: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ticket: int = 50_000_000

    def ticket(self) -> int:
        self._ticket += 1
        return self._ticket

    # --- market ---------------------------------------------------------------------------

    def set_tick(self, name: str, bid: float, ask: float) -> None:
        with self.lock:
            symbol = self.symbols[name]
            symbol.bid, symbol.ask = bid, ask
            for order in list(self.orders.values()):
                if order["symbol"] == name and self._triggered(order, symbol):
                    self._fill_pending(order, symbol)

    @staticmethod
    def _triggered(order: dict[str, Any], s: Symbol) -> bool:
        kind, price = order["type"], order["price_open"]
        return {
            c.ORDER_TYPE_BUY_LIMIT: s.ask <= price, c.ORDER_TYPE_SELL_LIMIT: s.bid >= price,
            c.ORDER_TYPE_BUY_STOP: s.ask >= price, c.ORDER_TYPE_SELL_STOP: s.bid <= price,
            c.ORDER_TYPE_BUY_STOP_LIMIT: s.ask >= price,
            c.ORDER_TYPE_SELL_STOP_LIMIT: s.bid <= price,
        }.get(kind, False)

    def _fill_pending(self, order: dict[str, Any], symbol: Symbol) -> None:
        del self.orders[order["ticket"]]
        buying = order["type"] in _BUYING
        price = order["price_stoplimit"] or order["price_open"]
        side = c.ORDER_TYPE_BUY if buying else c.ORDER_TYPE_SELL
        order.update(state=c.ORDER_STATE_FILLED, volume_current=0.0)
        self.history_orders.append(order)
        self._deal(order, side, order["volume_initial"], price, None, order["sl"], order["tp"])

    # --- trading --------------------------------------------------------------------------

    def execute(self, request: dict[str, Any]) -> c.OrderSendResult:
        action = request.get("action")
        if action == c.TRADE_ACTION_REMOVE:
            return self._remove(request)
        symbol = self.symbols.get(request.get("symbol", ""))
        if symbol is None or not symbol.visible:
            return self.reply(request, c.TRADE_RETCODE_INVALID, "Invalid request")
        if not self.trade_allowed:
            return self.reply(request, c.TRADE_RETCODE_CLIENT_DISABLES_AT, "AutoTrading disabled")
        volume = float(request.get("volume", 0.0))
        steps = volume / symbol.volume_step
        if not symbol.volume_min <= volume <= symbol.volume_max or abs(steps - round(steps)) > 1e-9:
            return self.reply(request, c.TRADE_RETCODE_INVALID_VOLUME, "Invalid volume")
        if action == c.TRADE_ACTION_DEAL:
            return self._deal_request(request, symbol, volume)
        if action == c.TRADE_ACTION_PENDING:
            return self._pending_request(request, symbol, volume)
        return self.reply(request, c.TRADE_RETCODE_INVALID, "Invalid request")

    def _deal_request(self, r: dict[str, Any], s: Symbol, volume: float) -> c.OrderSendResult:
        kind = r.get("type")
        if kind not in _OPPOSITE:
            return self.reply(r, c.TRADE_RETCODE_INVALID_ORDER, "Invalid order type")
        allowed = {c.ORDER_FILLING_FOK: s.filling_mode & c.SYMBOL_FILLING_FOK,
                   c.ORDER_FILLING_IOC: s.filling_mode & c.SYMBOL_FILLING_IOC,
                   c.ORDER_FILLING_RETURN: s.filling_mode == 0}
        if not allowed.get(r.get("type_filling", c.ORDER_FILLING_FOK)):
            return self.reply(r, c.TRADE_RETCODE_INVALID_FILL, "Unsupported filling mode")
        price = s.ask if kind == c.ORDER_TYPE_BUY else s.bid
        if abs(float(r.get("price", 0.0)) - price) > r.get("deviation", 0) * s.point + 1e-9:
            return self.reply(r, c.TRADE_RETCODE_REQUOTE, "Requote")
        position = r.get("position", 0)
        if position:
            held = self.positions.get(position)
            if held is None:
                return self.reply(r, c.TRADE_RETCODE_POSITION_CLOSED, "Position closed")
            if held["type"] == kind or volume > held["volume"] + 1e-9:
                return self.reply(r, 10038, "Invalid close volume")
        elif not self._stops_ok(kind in _BUYING, price, r):
            return self.reply(r, c.TRADE_RETCODE_INVALID_STOPS, "Invalid stops")
        order = self._order(r, s, kind, volume, price, c.ORDER_STATE_FILLED)
        self.history_orders.append(order)
        deal = self._deal(order, kind, volume, price, position or None, r.get("sl", 0.0),
                          r.get("tp", 0.0))
        return self.reply(r, c.TRADE_RETCODE_DONE, "Request executed", deal=deal["ticket"],
                          order=order["ticket"], volume=volume, price=price)

    def _pending_request(self, r: dict[str, Any], s: Symbol, volume: float) -> c.OrderSendResult:
        kind, price = r.get("type"), float(r.get("price", 0.0))
        if kind not in _PENDING_TYPES:
            return self.reply(r, c.TRADE_RETCODE_INVALID_ORDER, "Invalid order type")
        buying = kind in _BUYING
        limit = kind in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT)
        market = s.ask if buying else s.bid
        if (price < market) != (buying == limit) or price == market:
            return self.reply(r, c.TRADE_RETCODE_INVALID_PRICE, "Invalid price")
        if not self._stops_ok(buying, float(r.get("stoplimit") or price), r):
            return self.reply(r, c.TRADE_RETCODE_INVALID_STOPS, "Invalid stops")
        order = self._order(r, s, kind, volume, price, c.ORDER_STATE_PLACED)
        self.orders[order["ticket"]] = order
        return self.reply(r, c.TRADE_RETCODE_DONE, "Request executed", order=order["ticket"],
                          volume=volume)

    def _remove(self, r: dict[str, Any]) -> c.OrderSendResult:
        order = self.orders.pop(r.get("order", 0), None)
        if order is None:
            return self.reply(r, c.TRADE_RETCODE_INVALID, "Invalid request")
        order.update(state=c.ORDER_STATE_CANCELED, time_done=int(time.time()))
        self.history_orders.append(order)
        return self.reply(r, c.TRADE_RETCODE_DONE, "Request executed", order=order["ticket"])

    @staticmethod
    def _stops_ok(buying: bool, price: float, r: dict[str, Any]) -> bool:
        sl, tp = r.get("sl", 0.0) or 0.0, r.get("tp", 0.0) or 0.0
        below, above = (sl, tp) if buying else (tp, sl)
        return (not below or below < price) and (not above or above > price)

    def _order(self, r: dict[str, Any], s: Symbol, kind: int, volume: float, price: float,
               state: int) -> dict[str, Any]:
        now = time.time()
        return dict(
            ticket=self.ticket(), time_setup=int(now), time_setup_msc=int(now * 1000),
            time_done=int(now) if state == c.ORDER_STATE_FILLED else 0,
            time_done_msc=0, time_expiration=0, type=kind, type_time=r.get("type_time", 0),
            type_filling=r.get("type_filling", 0), state=state, magic=r.get("magic", 0),
            position_id=r.get("position", 0), position_by_id=0, reason=c.ORDER_REASON_EXPERT,
            volume_initial=volume, volume_current=volume if state == c.ORDER_STATE_PLACED else 0,
            price_open=price, sl=r.get("sl", 0.0), tp=r.get("tp", 0.0), price_current=price,
            price_stoplimit=r.get("stoplimit", 0.0), symbol=s.name,
            comment=r.get("comment", ""), external_id="",
        )

    def _deal(self, order: dict[str, Any], kind: int, volume: float, price: float,
              position: int | None, sl: float, tp: float) -> dict[str, Any]:
        now = time.time()
        if position is None:
            position = order["ticket"]
            self.positions[position] = dict(
                ticket=position, time=int(now), time_msc=int(now * 1000), time_update=int(now),
                time_update_msc=int(now * 1000), type=kind, magic=order["magic"],
                identifier=position, reason=c.POSITION_REASON_EXPERT, volume=volume,
                price_open=price, sl=sl or 0.0, tp=tp or 0.0, price_current=price, swap=0.0,
                profit=0.0, symbol=order["symbol"], comment=order["comment"], external_id="",
            )
            entry = c.DEAL_ENTRY_IN
        else:
            held = self.positions[position]
            held["volume"] = round(held["volume"] - volume, 8)
            if held["volume"] <= 0:
                del self.positions[position]
            entry = c.DEAL_ENTRY_OUT
        order["position_id"] = position
        deal = dict(
            ticket=self.ticket(), order=order["ticket"], time=int(now), time_msc=int(now * 1000),
            type=kind, entry=entry, magic=order["magic"], position_id=position,
            reason=c.DEAL_REASON_EXPERT, volume=volume, price=price, commission=0.0, swap=0.0,
            profit=0.0, fee=0.0, symbol=order["symbol"], comment=order["comment"],
            external_id="",
        )
        self.deals.append(deal)
        return deal

    def reply(self, request: dict[str, Any], retcode: int, comment: str,
              **values: Any) -> c.OrderSendResult:
        symbol = self.symbols.get(request.get("symbol", ""))
        fields = {name: request.get(name, 0) for name in c.TradeRequest._fields}
        fields.update(symbol=request.get("symbol", ""), comment=request.get("comment", ""))
        result = dict(deal=0, order=0, volume=0.0, price=0.0, bid=symbol.bid if symbol else 0.0,
                      ask=symbol.ask if symbol else 0.0, comment=comment, request_id=1,
                      retcode_external=0, request=c.TradeRequest(**fields))
        result.update(values)
        return c.OrderSendResult(retcode=retcode, **result)
