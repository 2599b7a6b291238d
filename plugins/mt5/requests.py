"""Trade request dictionaries, as `order_send` takes them.

Market orders are `TRADE_ACTION_DEAL` at the current ask (buy) or bid (sell) with the
configured `deviation` and a filling mode the symbol allows; limit and stop orders are
`TRADE_ACTION_PENDING` at their price (a stop-limit's `price` is its trigger and `stoplimit`
its limit). Each carries the magic number and the signal's comment, and `sl`/`tp` when given.
A time in force the terminal cannot honour for that order is refused, never swapped.
"""

from __future__ import annotations

from typing import Any

from plugins.errors import OrderRejected
from plugins.mt5.records import Position, SymbolSpec
from plugins.mt5.session import MT5Session
from plugins.mt5.symbols import SYMBOL_FILLING_FOK, SYMBOL_FILLING_IOC, filling_mode
from plugins.orders import Order, OrderSide, OrderType, TimeInForce

_PENDING_TYPE = {
    (OrderType.LIMIT, OrderSide.BUY): "ORDER_TYPE_BUY_LIMIT",
    (OrderType.LIMIT, OrderSide.SELL): "ORDER_TYPE_SELL_LIMIT",
    (OrderType.STOP, OrderSide.BUY): "ORDER_TYPE_BUY_STOP",
    (OrderType.STOP, OrderSide.SELL): "ORDER_TYPE_SELL_STOP",
    (OrderType.STOP_LIMIT, OrderSide.BUY): "ORDER_TYPE_BUY_STOP_LIMIT",
    (OrderType.STOP_LIMIT, OrderSide.SELL): "ORDER_TYPE_SELL_STOP_LIMIT",
}
_MARKET_FILLING = {TimeInForce.FOK: SYMBOL_FILLING_FOK, TimeInForce.IOC: SYMBOL_FILLING_IOC}
_PENDING_TIME = {TimeInForce.GTC: "ORDER_TIME_GTC", TimeInForce.DAY: "ORDER_TIME_DAY"}


class TradeRequests:
    def __init__(self, session: MT5Session) -> None:
        self.session = session

    def open(
        self, order: Order, side: OrderSide, volume: float, spec: SymbolSpec, comment: str,
        what: str,
    ) -> dict[str, Any]:  # fmt: skip
        s = self.session
        fields: dict[str, Any] = {
            "symbol": spec.name,
            "volume": volume,
            "magic": s.config.magic,
            "comment": comment,
        }
        if order.order_type is OrderType.MARKET:
            tick = s.tick(spec.name, what)
            fields.update(
                action=s.constant("TRADE_ACTION_DEAL"),
                type=s.constant("ORDER_TYPE_BUY" if side is OrderSide.BUY else "ORDER_TYPE_SELL"),
                price=tick.ask if side is OrderSide.BUY else tick.bid,
                deviation=s.config.deviation,
                type_time=s.constant("ORDER_TIME_GTC"),
                type_filling=self.market_filling(spec, order.time_in_force, what),
            )
        else:
            tif = order.time_in_force or TimeInForce.GTC
            if tif not in _PENDING_TIME:
                raise OrderRejected(
                    f"cannot {what}: MetaTrader 5 pending orders take time in force gtc or day, "
                    f"not {tif.value}"
                )
            limited = order.order_type is OrderType.LIMIT
            fields.update(
                action=s.constant("TRADE_ACTION_PENDING"),
                type=s.constant(_PENDING_TYPE[order.order_type, side]),
                price=order.price if limited else order.stop_price,
                type_time=s.constant(_PENDING_TIME[tif]),
                type_filling=s.constant("ORDER_FILLING_RETURN"),
            )
            if order.order_type is OrderType.STOP_LIMIT:
                fields["stoplimit"] = order.price
        if order.stop_loss is not None:
            fields["sl"] = order.stop_loss
        if order.take_profit is not None:
            fields["tp"] = order.take_profit
        return fields

    def close(
        self, position: Position, volume: float, spec: SymbolSpec, comment: str, what: str
    ) -> dict[str, Any]:
        s = self.session
        selling = position.type == s.constant("POSITION_TYPE_BUY")
        tick = s.tick(spec.name, what)
        return {
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
            "type_filling": self.market_filling(spec, None, what),
        }

    def remove(self, ticket: int) -> dict[str, Any]:
        return {"action": self.session.constant("TRADE_ACTION_REMOVE"), "order": ticket}

    def market_filling(self, spec: SymbolSpec, tif: TimeInForce | None, what: str) -> int:
        """Fill or kill / immediate or cancel when the order asks and the symbol allows it;
        otherwise the configured mode, or one the symbol allows."""
        s = self.session
        if tif is TimeInForce.FOK or tif is TimeInForce.IOC:
            if not spec.filling_mode & _MARKET_FILLING[tif]:
                raise OrderRejected(
                    f"cannot {what}: {spec.name} does not allow {tif.value} filling"
                )
            return s.constant(f"ORDER_FILLING_{tif.value.upper()}")
        if tif is not None and tif not in (TimeInForce.GTC, TimeInForce.DAY):
            raise OrderRejected(
                f"cannot {what}: MetaTrader 5 market orders take time in force ioc or fok, "
                f"not {tif.value}"
            )
        return filling_mode(
            spec.filling_mode,
            s.config.filling,
            s.constant("ORDER_FILLING_FOK"),
            s.constant("ORDER_FILLING_IOC"),
            s.constant("ORDER_FILLING_RETURN"),
        )
