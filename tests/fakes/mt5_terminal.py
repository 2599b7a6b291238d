"""The state of a fake MetaTrader 5 terminal, on a hedging or a netting account.

Market deals fill at the current bid or ask within the request's deviation; pending orders rest
until `set_tick` moves the price through them, and a position's stop-loss or take-profit closes
it when `set_tick` reaches it (a buy's at the bid, a sell's at the ask); closing deals name the
position they reduce. `TRADE_ACTION_SLTP` replaces a position's levels.
Requests are checked as `tests.fakes.mt5_rules` says the trade server checks them (filling mode
per execution mode, tick grid, stops and freeze levels, expiry) and refused with the documented
retcodes. Orders, deals and positions keep the request's magic, and its comment as the server
stores it (`comment_limit`, `comment_rewrite`). `script` makes the next replies fail the ways a
real link fails: a retcode without execution, a lost answer, a timeout, a reply that hangs.

Accounts (MQL5 book, "Basic principles and concepts: order, deal, and position"): on a hedging
account every deal without `position` opens a position of its own; on a netting account there is
one position per symbol, and a deal against it reduces, closes or reverses it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import mt5_rules as rules
from tests.fakes import mt5_structures as c
from tests.fakes.mt5_symbols import Symbol, default_symbols

_OPPOSITE = {c.ORDER_TYPE_BUY: c.ORDER_TYPE_SELL, c.ORDER_TYPE_SELL: c.ORDER_TYPE_BUY}
_PENDING_TYPES = rules.LIMITS | rules.STOPS | rules.STOP_LIMITS
Script = tuple[str, int, bool, float]


@dataclass
class FakeTerminal:
    login: int | None = None
    password: str | None = None
    server: str | None = None
    symbols: dict[str, Symbol] = field(default_factory=default_symbols)
    margin_mode: int = c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
    comment_limit: int = 0
    """Characters of a comment the server keeps (0: all 31)."""
    comment_rewrite: str = ""
    """"suffix": the server appends to comments; "replace": it puts its own."""
    partial_retcode: int = c.TRADE_RETCODE_DONE_PARTIAL
    """The retcode of an IOC order that filled partly (the pages name DONE_PARTIAL; some servers
    are said to answer DONE with the smaller volume: unconfirmed)."""
    hostile: bool = False
    """Each call first tries to run code in the calling client (see `fake_attacks`)."""
    initialized: bool = False
    connected: bool = True
    trade_allowed: bool = True
    error: tuple[int, str] = (c.RES_S_OK, "Success")
    positions: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    history_orders: list[dict[str, Any]] = field(default_factory=list)
    deals: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[Script] = field(default_factory=list)
    latency: float = 0.0
    init_latency: float = 0.0
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
            for position in list(self.positions.values()):
                if position["symbol"] == name:
                    self._protect(position, symbol)

    def _protect(self, position: dict[str, Any], s: Symbol) -> None:
        """Close a position whose stop-loss or take-profit the price reached: a buy closes at
        the bid (SL: bid <= sl, TP: bid >= tp), a sell at the ask, as the order and deal of
        reason SL or TP (MQL5 ENUM_ORDER_REASON, ENUM_DEAL_REASON)."""
        buying = position["type"] == c.POSITION_TYPE_BUY
        price = s.bid if buying else s.ask
        sl, tp = position["sl"], position["tp"]
        stopped = bool(sl) and (price <= sl if buying else price >= sl)
        taken = bool(tp) and (price >= tp if buying else price <= tp)
        if not (stopped or taken):
            return
        closing = c.ORDER_TYPE_SELL if buying else c.ORDER_TYPE_BUY
        request = {"magic": position["magic"], "position": position["ticket"],
                   "comment": f"[{'sl' if stopped else 'tp'} {sl if stopped else tp:g}]"}
        order = self._order(request, s, closing, position["volume"], price, c.ORDER_STATE_FILLED)
        order["reason"] = c.ORDER_REASON_SL if stopped else c.ORDER_REASON_TP
        self.history_orders.append(order)
        deal = self._deal(order, closing, position["volume"], price, position["ticket"], 0.0, 0.0)
        deal["reason"] = c.DEAL_REASON_SL if stopped else c.DEAL_REASON_TP

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
        price = order["price_stoplimit"] or order["price_open"]
        side = c.ORDER_TYPE_BUY if order["type"] in rules.BUYING else c.ORDER_TYPE_SELL
        order.update(state=c.ORDER_STATE_FILLED, volume_current=0.0)
        self.history_orders.append(order)
        self._deal(order, side, order["volume_initial"], price, None, order["sl"], order["tp"])

    # --- trading --------------------------------------------------------------------------

    def execute(self, request: dict[str, Any]) -> c.OrderSendResult:
        action = request.get("action")
        if action == c.TRADE_ACTION_REMOVE:
            return self._remove(request)
        if action == c.TRADE_ACTION_SLTP:
            return self._sltp(request)
        symbol = self.symbols.get(request.get("symbol", ""))
        if symbol is None or not symbol.visible:
            return self.reply(request, c.TRADE_RETCODE_INVALID, "Invalid request")
        if not self.trade_allowed:
            return self.reply(request, c.TRADE_RETCODE_CLIENT_DISABLES_AT, "AutoTrading disabled")
        volume = float(request.get("volume", 0.0))
        steps = volume / symbol.volume_step
        if not symbol.volume_min <= volume <= symbol.volume_max or abs(steps - round(steps)) > 1e-9:
            return self.reply(request, c.TRADE_RETCODE_INVALID_VOLUME, "Invalid volume")
        refused = rules.prices(symbol, request)
        if refused:
            return self.reply(request, *refused)
        if action == c.TRADE_ACTION_DEAL:
            return self._deal_request(request, symbol, volume)
        if action == c.TRADE_ACTION_PENDING:
            return self._pending_request(request, symbol, volume)
        return self.reply(request, c.TRADE_RETCODE_INVALID, "Invalid request")

    def _deal_request(self, r: dict[str, Any], s: Symbol, volume: float) -> c.OrderSendResult:
        kind = r.get("type")
        if kind not in _OPPOSITE:
            return self.reply(r, c.TRADE_RETCODE_INVALID_ORDER, "Invalid order type")
        filling = r.get("type_filling", c.ORDER_FILLING_FOK)
        if not rules.filling_allowed(s, kind, filling):
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
            if rules.frozen_position(s, held):
                return self.reply(r, c.TRADE_RETCODE_FROZEN, "Position frozen")
        else:
            refused = rules.market_stops(s, kind, r)
            if refused:
                return self.reply(r, *refused)
        retcode, filled = c.TRADE_RETCODE_DONE, volume
        if s.liquidity and volume > s.liquidity + 1e-9:
            if filling == c.ORDER_FILLING_FOK:  # the pages do not name this retcode: unconfirmed
                return self.reply(r, c.TRADE_RETCODE_REJECT, "Not enough liquidity")
            if filling == c.ORDER_FILLING_IOC:
                retcode, filled = self.partial_retcode, s.liquidity
        order = self._order(r, s, kind, volume, price, c.ORDER_STATE_FILLED)
        order["volume_current"] = round(volume - filled, 8)
        self.history_orders.append(order)
        deal = self._deal(order, kind, filled, price, position or None, r.get("sl", 0.0),
                          r.get("tp", 0.0))
        return self.reply(r, retcode, "Request executed", deal=deal["ticket"],
                          order=order["ticket"], volume=filled, price=price)

    def _pending_request(self, r: dict[str, Any], s: Symbol, volume: float) -> c.OrderSendResult:
        kind = r.get("type")
        if kind not in _PENDING_TYPES:
            return self.reply(r, c.TRADE_RETCODE_INVALID_ORDER, "Invalid order type")
        if not rules.filling_allowed(s, kind, r.get("type_filling", c.ORDER_FILLING_FOK)):
            return self.reply(r, c.TRADE_RETCODE_INVALID_FILL, "Unsupported filling mode")
        refused = rules.expiration(s, r) or rules.pending_prices(s, kind, r)
        if refused:
            return self.reply(r, *refused)
        order = self._order(r, s, kind, volume, float(r["price"]), c.ORDER_STATE_PLACED)
        self.orders[order["ticket"]] = order
        return self.reply(r, c.TRADE_RETCODE_DONE, "Request executed", order=order["ticket"],
                          volume=volume)

    def _sltp(self, r: dict[str, Any]) -> c.OrderSendResult:
        """TRADE_ACTION_SLTP (MQL5 book, "Modifying Stop Loss and/or Take Profit levels of a
        position"): the ticket names the position on a hedging account, the symbol on a
        netting one; `sl` and `tp` replace both levels (0 removes one). The levels are checked
        as a market order's (StopLevel) and refused while the position is within FreezeLevel
        (LIMITS tables); unchanged levels are NO_CHANGES. For a ticket that names no position
        the pages give no retcode: POSITION_CLOSED here (unconfirmed)."""
        held = self.positions.get(r.get("position", 0))
        if held is None and self.margin_mode != c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING:
            held = next((p for p in self.positions.values()
                         if p["symbol"] == r.get("symbol")), None)
        if held is None:
            return self.reply(r, c.TRADE_RETCODE_POSITION_CLOSED, "Position closed")
        s = self.symbols[held["symbol"]]
        sl, tp = float(r.get("sl") or 0.0), float(r.get("tp") or 0.0)
        kind = c.ORDER_TYPE_BUY if held["type"] == c.POSITION_TYPE_BUY else c.ORDER_TYPE_SELL
        refused = rules.prices(s, r) or rules.market_stops(s, kind, r)
        if refused:
            return self.reply(r, *refused)
        if (sl, tp) == (held["sl"], held["tp"]):
            return self.reply(r, c.TRADE_RETCODE_NO_CHANGES, "No changes")
        if rules.frozen_position(s, held):
            return self.reply(r, c.TRADE_RETCODE_FROZEN, "Position frozen")
        now = time.time()
        held.update(sl=sl, tp=tp, time_update=int(now), time_update_msc=int(now * 1000))
        return self.reply(r, c.TRADE_RETCODE_DONE, "Request executed")

    def _remove(self, r: dict[str, Any]) -> c.OrderSendResult:
        order = self.orders.get(r.get("order", 0))
        if order is None:
            return self.reply(r, c.TRADE_RETCODE_INVALID, "Invalid request")
        if rules.frozen_order(self.symbols[order["symbol"]], order):
            return self.reply(r, c.TRADE_RETCODE_FROZEN, "Order frozen")
        del self.orders[order["ticket"]]
        order.update(state=c.ORDER_STATE_CANCELED, time_done=int(time.time()))
        self.history_orders.append(order)
        return self.reply(r, c.TRADE_RETCODE_DONE, "Request executed", order=order["ticket"])

    def _order(self, r: dict[str, Any], s: Symbol, kind: int, volume: float, price: float,
               state: int) -> dict[str, Any]:
        now, ticket = time.time(), self.ticket()
        comment = rules.stored_comment(r.get("comment", ""), self.comment_limit,
                                       self.comment_rewrite, ticket)
        return dict(
            ticket=ticket, time_setup=int(now), time_setup_msc=int(now * 1000),
            time_done=int(now) if state == c.ORDER_STATE_FILLED else 0,
            time_done_msc=0, time_expiration=0, type=kind, type_time=r.get("type_time", 0),
            type_filling=r.get("type_filling", 0), state=state, magic=r.get("magic", 0),
            position_id=r.get("position", 0), position_by_id=0, reason=c.ORDER_REASON_EXPERT,
            volume_initial=volume, volume_current=volume if state == c.ORDER_STATE_PLACED else 0,
            price_open=price, sl=r.get("sl", 0.0), tp=r.get("tp", 0.0), price_current=price,
            price_stoplimit=r.get("stoplimit", 0.0), symbol=s.name, comment=comment,
            external_id="",
        )

    def _target(self, order: dict[str, Any], kind: int, position: int | None) -> int | None:
        """The position a deal changes: the named one, or on a netting account the symbol's."""
        if position is not None or self.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING:
            return position
        held = [p for p in self.positions.values() if p["symbol"] == order["symbol"]]
        return held[0]["ticket"] if held else None

    def _deal(self, order: dict[str, Any], kind: int, volume: float, price: float,
              position: int | None, sl: float, tp: float) -> dict[str, Any]:
        now = time.time()
        position = self._target(order, kind, position)
        held = self.positions.get(position) if position is not None else None
        if held is None:
            position = order["ticket"]
            self.positions[position] = dict(
                ticket=position, time=int(now), time_msc=int(now * 1000), time_update=int(now),
                time_update_msc=int(now * 1000), type=kind, magic=order["magic"],
                identifier=position, reason=c.POSITION_REASON_EXPERT, volume=volume,
                price_open=price, sl=sl or 0.0, tp=tp or 0.0, price_current=price, swap=0.0,
                profit=0.0, symbol=order["symbol"], comment=order["comment"], external_id="",
            )
            entry = c.DEAL_ENTRY_IN
        elif held["type"] == kind:  # netting: the same direction adds to the position
            held["volume"] = round(held["volume"] + volume, 8)
            entry = c.DEAL_ENTRY_IN
        else:
            held["volume"] = round(held["volume"] - volume, 8)
            entry = c.DEAL_ENTRY_OUT
            if held["volume"] < 0:  # netting: a larger opposite deal reverses it
                held.update(type=kind, volume=-held["volume"], price_open=price)
                entry = c.DEAL_ENTRY_INOUT
            elif held["volume"] == 0:
                del self.positions[position]
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
