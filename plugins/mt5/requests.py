"""Trade request dictionaries, as `order_send` takes them.

Market orders are `TRADE_ACTION_DEAL` at the current ask (buy) or bid (sell) with the
configured `deviation` and a filling mode the symbol's execution mode allows; limit and stop
orders are `TRADE_ACTION_PENDING` at their price (a stop-limit's `price` is its trigger and
`stoplimit` its limit). Each carries the magic number and the signal's comment, and `sl`/`tp`
when given. Prices go on the symbol's tick grid, and stops that the stops level forbids are
refused before anything is sent. A time in force, filling mode or expiry the symbol cannot
honour is refused, never swapped.

`open` and `close` return the request with the filling modes it may take, best first: the
first is in the request, the next is for one retry when the server answers INVALID_FILL.
"""

from __future__ import annotations

from typing import Any

from plugins.errors import OrderRejected
from plugins.mt5 import prices
from plugins.mt5.records import Position, SymbolSpec
from plugins.mt5.session import MT5Session
from plugins.orders import Order, OrderSide, OrderType, TimeInForce

_PENDING_TYPE = {
    (OrderType.LIMIT, OrderSide.BUY): "ORDER_TYPE_BUY_LIMIT",
    (OrderType.LIMIT, OrderSide.SELL): "ORDER_TYPE_SELL_LIMIT",
    (OrderType.STOP, OrderSide.BUY): "ORDER_TYPE_BUY_STOP",
    (OrderType.STOP, OrderSide.SELL): "ORDER_TYPE_SELL_STOP",
    (OrderType.STOP_LIMIT, OrderSide.BUY): "ORDER_TYPE_BUY_STOP_LIMIT",
    (OrderType.STOP_LIMIT, OrderSide.SELL): "ORDER_TYPE_SELL_STOP_LIMIT",
}
_PENDING_TIME = {TimeInForce.GTC: "ORDER_TIME_GTC", TimeInForce.DAY: "ORDER_TIME_DAY"}
_EXPIRATION_FLAG = {TimeInForce.GTC: 1, TimeInForce.DAY: 2}  # SYMBOL_EXPIRATION_GTC, _DAY
Request = tuple[dict[str, Any], list[int]]


class TradeRequests:
    def __init__(self, session: MT5Session) -> None:
        self.session = session

    def open(
        self, order: Order, side: OrderSide, volume: float, spec: SymbolSpec, comment: str,
        what: str,
    ) -> Request:  # fmt: skip
        s = self.session
        buying = side is OrderSide.BUY
        fields: dict[str, Any] = {
            "symbol": spec.name,
            "volume": volume,
            "magic": s.config.magic,
            "comment": comment,
        }
        tick = s.tick(spec.name, what)
        if order.order_type is OrderType.MARKET:
            fillings = self.fillings(spec, order.time_in_force, what)
            price = tick.ask if buying else tick.bid
            fields.update(
                action=s.constant("TRADE_ACTION_DEAL"),
                type=s.constant("ORDER_TYPE_BUY" if buying else "ORDER_TYPE_SELL"),
                price=price,
                deviation=s.config.deviation,
                type_time=s.constant("ORDER_TIME_GTC"),
            )
            reference, against = (tick.bid, "the bid") if buying else (tick.ask, "the ask")
        else:
            tif = self._pending_time(order, spec, what)
            limited = order.order_type is OrderType.LIMIT
            entry = order.price if limited else order.stop_price
            assert entry is not None  # noqa: S101 - Order requires it for these types
            price = prices.to_tick(entry, spec)
            kind = "limit" if limited else "stop"
            prices.check_entry(spec, kind, buying, price, tick.bid, tick.ask, what)
            if order.order_type is OrderType.STOP:
                fillings = self.fillings(spec, None, what)
            else:
                fillings = [self._filling(f) for f in prices.resting_fillings(spec)]
            fields.update(
                action=s.constant("TRADE_ACTION_PENDING"),
                type=s.constant(_PENDING_TYPE[order.order_type, side]),
                price=price,
                type_time=s.constant(_PENDING_TIME[tif]),
            )
            reference, against = price, "the order price"
            if order.order_type is OrderType.STOP_LIMIT:
                assert order.price is not None  # noqa: S101 - Order requires it
                fields["stoplimit"] = reference = prices.to_tick(order.price, spec)
                against = "the limit price"
        stop_loss = None if order.stop_loss is None else prices.to_tick(order.stop_loss, spec)
        take_profit = None if order.take_profit is None else prices.to_tick(order.take_profit, spec)
        prices.check_stops(spec, buying, reference, stop_loss, take_profit, what, against)
        if stop_loss is not None:
            fields["sl"] = stop_loss
        if take_profit is not None:
            fields["tp"] = take_profit
        fields["type_filling"] = fillings[0]
        return fields, fillings

    def _pending_time(self, order: Order, spec: SymbolSpec, what: str) -> TimeInForce:
        tif = order.time_in_force or TimeInForce.GTC
        if tif not in _PENDING_TIME:
            raise OrderRejected(
                f"cannot {what}: MetaTrader 5 pending orders take time in force gtc or day, "
                f"not {tif.value}"
            )
        if not spec.expiration_mode & _EXPIRATION_FLAG[tif]:
            allowed = [
                t.value for t, flag in _EXPIRATION_FLAG.items() if spec.expiration_mode & flag
            ]
            raise OrderRejected(
                f"cannot {what}: {spec.name} does not take {tif.value} orders (its "
                f"expiration_mode allows {', '.join(allowed) or 'neither gtc nor day'})"
            )
        return tif

    def close(
        self, position: Position, volume: float, spec: SymbolSpec, comment: str, what: str
    ) -> Request:
        s = self.session
        selling = position.type == s.constant("POSITION_TYPE_BUY")
        fillings = self.fillings(spec, None, what)
        tick = s.tick(spec.name, what)
        fields = {
            "action": s.constant("TRADE_ACTION_DEAL"),
            "symbol": spec.name,
            "volume": volume,
            "type": s.constant("ORDER_TYPE_SELL" if selling else "ORDER_TYPE_BUY"),
            "position": position.ticket,
            "price": tick.bid if selling else tick.ask,
            "deviation": s.config.deviation,
            "magic": s.config.magic,
            "comment": comment,
            "type_time": s.constant("ORDER_TIME_GTC"),
            "type_filling": fillings[0],
        }
        return fields, fillings

    def remove(self, ticket: int) -> dict[str, Any]:
        return {"action": self.session.constant("TRADE_ACTION_REMOVE"), "order": ticket}

    def fillings(self, spec: SymbolSpec, tif: TimeInForce | None, what: str) -> list[int]:
        """ORDER_FILLING_* values for a market order: the one the order asks (fok, ioc), else
        the configured one, else those the symbol allows; refused where the symbol forbids."""
        allowed = prices.market_fillings(spec)
        if tif is not None and tif not in (TimeInForce.GTC, TimeInForce.DAY,
                                           TimeInForce.FOK, TimeInForce.IOC):  # fmt: skip
            raise OrderRejected(
                f"cannot {what}: MetaTrader 5 market orders take time in force ioc or fok, "
                f"not {tif.value}"
            )
        wanted = tif.value if tif in (TimeInForce.FOK, TimeInForce.IOC) else None
        if wanted is not None and wanted not in allowed:
            raise OrderRejected(
                f"cannot {what}: {spec.name} does not allow {wanted} filling "
                f"({prices.describe_execution(spec)})"
            )
        configured = self.session.config.filling
        if wanted is None and configured != "auto":
            if configured not in allowed:
                raise OrderRejected(
                    f"cannot {what}: filling = {configured!r} is not allowed on {spec.name} "
                    f"({prices.describe_execution(spec)}; allowed: {', '.join(allowed) or 'none'})"
                )
            wanted = configured
        if wanted is not None:
            return [self._filling(wanted)]
        if not allowed:
            raise OrderRejected(
                f"cannot {what}: {spec.name} allows no filling mode for market orders "
                f"({prices.describe_execution(spec)})"
            )
        return [self._filling(mode) for mode in allowed]

    def _filling(self, mode: str) -> int:
        return self.session.constant(f"ORDER_FILLING_{mode.upper()}")
