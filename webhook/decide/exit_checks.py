"""Which entries with managed exits the exits engine (`webhook.execute.exits`) can honour on
a plugin; the others are refused before anything is sent."""

from __future__ import annotations

from plugins.orders import Order, OrderType
from plugins.registry import PluginRegistry


def exits_refusal(order: Order, plugin: str, registry: PluginRegistry) -> str | None:
    """Why `order`'s exits cannot be managed on `plugin`, naming both; None when they can.

    A plugin that gives no prices leaves nothing to follow. An entry that rests (limit, stop)
    fills later at the broker, where the engine does not watch for it. A stop-loss or
    take-profit sent with the entry stays at the broker as an order of its own beside the
    managed exits, which the engine neither moves nor cancels, unless the plugin holds a
    position's stop (`position_stop`): then the stop-loss is the plan's first stop, held there.
    A take-profit beside exits belongs in their ladder there.
    """
    declared = registry.capabilities(plugin)
    if not declared.quotes:
        return (f"exits: plugin {plugin!r} gives no prices (its capabilities say quotes = "
                "false), and managed exits follow the prices")
    if order.order_type is not OrderType.MARKET:
        return (f"exits: managed exits follow market entries only; a {order.order_type.value} "
                f"entry rests at plugin {plugin!r}, and its later fill is not watched")
    if declared.position_stop:
        if order.take_profit is not None:
            return ("exits: give the take_profit as a take-profit level (share 1) of the exits: "
                    f"plugin {plugin!r} would not hold it beside them")
        return None
    if order.stop_loss is not None or order.take_profit is not None:
        field = "stop_loss" if order.stop_loss is not None else "take_profit"
        return (f"exits: plugin {plugin!r} would place the {field} at the broker as an order of "
                "its own, beside the managed exits, which tradehook neither moves nor cancels; "
                "leave it out (the trailing stop or break-even is the stop, a take-profit level "
                "the target)")
    return None
