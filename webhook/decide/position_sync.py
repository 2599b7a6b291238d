"""Position sync: an alert that says what position it expects before its order, checked
against the broker's.

TradingView strategy alerts can carry `{{strategy.prev_market_position}}` and
`{{strategy.prev_market_position_size}}` (native alerts: `expected_position`). When the broker's
position (once the orders already queued here for the plugin and symbol are done) is not that,
an alert was missed or an order went wrong, and the source's `on_position_mismatch` says what
to do: `ignore` sends the order as it is, `reject` refuses it, `resync` replaces it with a
target order for the position the alert leaves (its `market_position` and size, else the
expected position with the order applied), which the executor turns into the difference when
the order's turn comes (`webhook.execute.targets`). Every mismatch is written into the signal's
reason and published as a `position_mismatch` event, which notifications carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plugins.orders import Order, OrderAction, number_text
from webhook.decide.broker_lookup import BrokerLookup, position_after
from webhook.decide.risk import Rejection
from webhook.dialects import ParsedSignal
from webhook.errors import FactUnavailable

MismatchMode = Literal["ignore", "reject", "resync"]


@dataclass(frozen=True)
class PositionCheck:
    order: Order
    """The order to go on with: as it came, or the resync's target order."""
    mismatch: str | None = None
    """What did not match, for the signal's reason, its event and the notification."""
    rejection: Rejection | None = None


async def check_position(
    parsed: ParsedSignal, order: Order, facts: BrokerLookup, mode: MismatchMode, *, source: str
) -> PositionCheck:
    """Compare the alert's expected position with the broker's (see the module's docstring)."""
    expected = parsed.expected_position
    if expected is None:
        return PositionCheck(order)
    rule = f"sources.{source}.on_position_mismatch"
    try:
        now, after_queued = await facts.position_after_queued()
    except FactUnavailable as exc:
        if mode == "ignore":
            return PositionCheck(order)
        return PositionCheck(order, rejection=Rejection(
            rule, f"the position the alert expects ({number_text(expected)}) cannot be "
            f"checked: {exc}"))
    if _same(expected, after_queued):
        return PositionCheck(order)
    held = f"holds {number_text(now)}"
    if not _same(now, after_queued):
        held += f" ({number_text(after_queued)} once the orders queued before it are done)"
    mismatch = (f"position mismatch: the alert expects {number_text(expected)} before its "
                f"order, plugin {facts.plugin_name!r} {held}")
    if mode == "reject":
        return PositionCheck(order, mismatch, Rejection(rule, f"{mismatch}; rejected"))
    if mode == "ignore" or order.action is OrderAction.CANCEL:
        return PositionCheck(order, f"{mismatch}; sent as it is")
    resulting = parsed.resulting_position
    if resulting is None:
        resulting = position_after(expected, order)
    resync = Order(
        symbol=order.symbol, action=OrderAction.TARGET, target_position=resulting,
        confidence=order.confidence, client_order_id=order.client_order_id,
        comment=order.comment, alert_time=order.alert_time,
    )
    return PositionCheck(resync, f"{mismatch}; resync: ordering what reaches "
                                 f"{number_text(resulting)}")


def _same(a: float, b: float) -> bool:
    return float(f"{a:.12g}") == float(f"{b:.12g}")
