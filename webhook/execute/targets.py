"""Target orders: the position a signal wants, turned into the order that reaches it when the
order's turn comes.

A signal with `action = "target"` is stored as it came. Right before it is sent, the broker is
asked for the net position and only the difference is ordered, as an ordinary open, close or
reverse, under the signal's client order id. Signals of one (plugin, symbol) run one at a time
in arrival order (`SignalJournal.claim`), so every earlier order of the lane has been answered
when the position is read: two targets in flight never both order the full difference, and a
repeated target finds the position already there and orders nothing. (A resting limit order
from an earlier signal is not a position yet, and the broker cannot count it.)
"""

from __future__ import annotations

import logging

from plugins.orders import ExecutionResult, ExecutionStatus, Order, OrderAction, OrderSide
from plugins.registry import PluginRegistry

logger = logging.getLogger("tradehook.executor")


async def send_order(registry: PluginRegistry, order: Order, plugin: str) -> ExecutionResult:
    """Execute `order` on `plugin`; a target order as the difference to the broker's position
    now, or not at all when the position is already there (a filled result of 0)."""
    if order.action is not OrderAction.TARGET:
        return await registry.execute_order(order, plugin)
    position = await registry.fetch_position(order.symbol, plugin)
    difference = order_for_target(order, position)
    if difference is None:
        logger.info("%s: the position is already %g", order.describe(on=plugin), position)
        return ExecutionResult(
            success=True, status=ExecutionStatus.FILLED, client_order_id=order.client_order_id,
        )
    logger.info("%s: the position is %g, sending %s", order.describe(on=plugin), position,
                difference.describe())
    return await registry.execute_order(difference, plugin)


def order_for_target(order: Order, position: float) -> Order | None:
    """The order that takes the net `position` to `order.target_position`, None when it is there
    already: an open to add, a close (of part or all) to reduce or flatten, a reverse to cross
    from long to short or back (so that hedging accounts close before they open)."""
    assert order.target_position is not None  # noqa: S101 - Order checks
    target = _rounded(order.target_position)
    position = _rounded(position)
    difference = _rounded(target - position)
    if difference == 0:
        return None
    closing = OrderSide.SELL if position > 0 else OrderSide.BUY
    update: dict[str, object] = {"target_position": None}
    if target == 0:
        update |= {"action": OrderAction.CLOSE, "side": closing}
    elif position == 0 or (position > 0) == (target > 0):
        if abs(target) > abs(position):
            side = OrderSide.BUY if difference > 0 else OrderSide.SELL
            update |= {"action": OrderAction.OPEN, "side": side, "quantity": abs(difference)}
        else:
            update |= {"action": OrderAction.CLOSE, "side": closing,
                       "quantity": abs(difference)}
    else:
        side = OrderSide.BUY if target > 0 else OrderSide.SELL
        update |= {"action": OrderAction.REVERSE, "side": side, "quantity": abs(target)}
    return Order.model_validate({**order.model_dump(), **update})


def _rounded(number: float) -> float:
    """Away the float noise of sums (0.1 + 0.2), as sizing rounds its quantities."""
    return float(f"{number:.12g}")
