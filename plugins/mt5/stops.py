"""A position's protective stop on MetaTrader 5: its stop-loss, moved with TRADE_ACTION_SLTP.

The request names the position by its ticket (required on hedging accounts) and its symbol
(required on netting ones), and carries both levels, since a 0 removes one (MQL5 book,
"Modifying Stop Loss and/or Take Profit levels of a position"): the position's take-profit is
sent back as it is. Every position on the symbol on the stop's side is moved, as `close` and
`fetch_position` take every position on the symbol for the position. The stop is rounded to
the tick and checked against the bid (a buy's) or the ask (a sell's) and the stops level before
anything is sent; a position already at that stop is not sent a request, so a repeat, as after
a restart, costs nothing.
"""

from __future__ import annotations

from plugins.errors import OrderRejected
from plugins.mt5.prices import check_stops, to_tick
from plugins.mt5.sending import OrderSender
from plugins.mt5.session import MT5Session
from plugins.orders import OrderSide


def move_stop(session: MT5Session, sender: OrderSender, symbol: str, side: OrderSide,
              stop_price: float) -> None:
    buying = side is OrderSide.BUY
    which = "long" if buying else "short"
    what = f"move the stop of the {which} position in {symbol} to {stop_price:g}"
    spec = session.symbol(symbol, what)
    long_type = session.constant("POSITION_TYPE_BUY")
    held = [p for p in session.positions(spec.name) if (p.type == long_type) == buying]
    if not held:
        raise OrderRejected(f"no open {which} position in {spec.name} to hold a stop")
    stop = to_tick(stop_price, spec)
    tick = session.tick(spec.name, what)
    check_stops(spec, buying, tick.bid if buying else tick.ask, stop, None, what,
                "the bid" if buying else "the ask")
    for position in held:
        if abs(position.sl - stop) < spec.point / 2:
            continue
        fields = {
            "action": session.constant("TRADE_ACTION_SLTP"),
            "symbol": spec.name,
            "position": position.ticket,
            "sl": stop,
            "tp": position.tp,
            "magic": session.config.magic,
        }
        sender.send(fields, f"{what} (position {position.ticket})")
