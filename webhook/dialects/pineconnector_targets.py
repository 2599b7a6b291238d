"""How PineConnector's EA reads stops, targets and pending entries, and the source setting that
mirrors it.

    [sources.pc.pineconnector]
    target_type = "pips"        # sl= and tp=: "pips" (the EA's default), "price", "percent"
    pending_entry = "price"     # price= of buylimit & co: "pips", "price", "percent"

PineConnector's EA guide ("Syntax Parameter Interpretation Settings"): with Target Type *Pips*
`sl=12` on a buy of EURUSD at 1.0567 puts the stop at 1.0555 (measured from the entry); with
*Price* it is the price itself; with *Percentage* `sl=1` is 1% away. Pending Order Entry reads
`price=` the same three ways, measured from the current market price. The explicit parameters of
its newer EA (`sl_pips=`, `tp_pct=`, `sl_price=`, ...) say their unit themselves, whatever the
setting. Pips become prices with the broker's own symbol specs (`plugins.orders.pip_size`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugins.orders import OrderType
from webhook.decide.quantities import PendingEntry, PriceOffset
from webhook.dialects.signal import to_number
from webhook.errors import PayloadError


class TargetType(StrEnum):
    PIPS = "pips"
    PRICE = "price"
    PERCENT = "percent"


class PineConnectorSettings(BaseModel):
    """`[sources.NAME.pineconnector]`: the PineConnector EA settings these alerts were written
    for. The default reads `sl=`, `tp=` and `price=` as prices, as tradehook always has; the EA's
    own default is pips."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_type: TargetType = TargetType.PRICE
    """How `sl=` and `tp=` are read (the EA's Target Type)."""
    pending_entry: TargetType = TargetType.PRICE
    """How `price=` of pending orders is read (the EA's Pending Order Entry)."""


TARGETS: dict[str, tuple[str, TargetType | None]] = {
    "sl": ("stop_loss", None),
    "tp": ("take_profit", None),
    "sl_price": ("stop_loss", TargetType.PRICE),
    "tp_price": ("take_profit", TargetType.PRICE),
    "sl_pips": ("stop_loss", TargetType.PIPS),
    "tp_pips": ("take_profit", TargetType.PIPS),
    "sl_pct": ("stop_loss", TargetType.PERCENT),
    "tp_pct": ("take_profit", TargetType.PERCENT),
}
"""Parameter -> (order field, its unit; None: the source's `target_type`)."""


def read_targets(
    params: dict[str, str],
    settings: PineConnectorSettings,
    fields: dict[str, Any],
    renamed: dict[str, str],
) -> dict[str, PriceOffset]:
    """Absolute stops go into `fields`; distances are returned by order field."""
    offsets: dict[str, PriceOffset] = {}
    chosen: dict[str, str] = {}
    for key, value in params.items():
        if key not in TARGETS:
            continue
        target, unit = TARGETS[key]
        if target in chosen:
            raise PayloadError(key, f"give one of {chosen[target]}= and {key}=, not both")
        chosen[target] = key
        number = to_number(key, value)
        if number <= 0:
            raise PayloadError(key, f"must be greater than 0, got {number:g}")
        unit = unit or settings.target_type
        if unit is TargetType.PRICE:
            fields[target] = number
            renamed[target] = key
        else:
            offsets[target] = _offset(key, number, unit)
    return offsets


def read_entry(
    key: str,
    value: str,
    order_type: str,
    settings: PineConnectorSettings,
    fields: dict[str, Any],
    renamed: dict[str, str],
) -> PendingEntry | None:
    """`price=`: the entry of a pending order, or (market orders, read as a price) the signal's
    price. A distance from the market is returned, to be placed once the market is known."""
    number = to_number(key, value)
    unit = settings.pending_entry
    if unit is TargetType.PRICE:
        target = "stop_price" if order_type == "stop" else "price"
        fields[target] = number
        renamed[target] = key
        return None
    if order_type == "market":
        raise PayloadError(key, f"is read as {unit.value} from the market (pending_entry), which "
                                "a market order has no use for: remove it")
    if number <= 0:
        raise PayloadError(key, f"must be greater than 0, got {number:g}")
    return PendingEntry(order_type=OrderType(order_type), offset=_offset(key, number, unit))


def _offset(key: str, number: float, unit: TargetType) -> PriceOffset:
    if unit is TargetType.PIPS:
        return PriceOffset(field=key, pips=number)
    return PriceOffset(field=key, percent=number)
