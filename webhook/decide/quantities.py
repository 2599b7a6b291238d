"""What an alert may say relative to things only the broker knows when the signal arrives.

A quantity may be in units, in quote currency, or a percentage of equity or of the position; a
stop-loss or take-profit may be a percentage or an amount away from the entry. Dialects read
these; the policy turns them into numbers once the plugin has said its price, equity and position.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugins.orders import OrderSide
from webhook.errors import PayloadError


class QuantityUnit(StrEnum):
    UNITS = "units"
    """Base units, contracts or lots: the quantity is sent as it is."""
    QUOTE = "quote"
    """An amount of quote currency (100 USDT), divided by the price."""
    PERCENT_OF_EQUITY = "percent_of_equity"
    """That share of the account's equity, divided by the price."""
    PERCENT_OF_POSITION = "percent_of_position"
    """That share of the open position (50 closes half of it)."""
    RISK_AMOUNT = "risk_amount"
    """Sized so that the stop-loss loses this much quote currency: amount / |entry - stop|."""
    RISK_PERCENT = "risk_percent"
    """Sized so that the stop-loss loses this share of equity."""


UNIT_ALIASES = {
    "fixed_quantity": QuantityUnit.UNITS,
    "fixed": QuantityUnit.UNITS,
    "lots": QuantityUnit.UNITS,
    "contracts": QuantityUnit.UNITS,
    "dollar_amount": QuantityUnit.QUOTE,
    "risk_dollar_amount": QuantityUnit.RISK_AMOUNT,
}
"""TradersPost's names (and the plain words people use) for the units above."""


def parse_quantity_unit(field: str, value: Any) -> QuantityUnit:
    word = str(value).strip().lower() if isinstance(value, str) else ""
    if word in UNIT_ALIASES:
        return UNIT_ALIASES[word]
    try:
        return QuantityUnit(word)
    except ValueError:
        known = ", ".join([*QuantityUnit, *UNIT_ALIASES])
        raise PayloadError(field, f"unknown quantity unit {str(value)[:40]!r}; expected one of: "
                                  f"{known}") from None


class PriceOffset(BaseModel):
    """A distance from the entry price: a percentage of it, or an amount in quote currency."""

    model_config = ConfigDict(frozen=True)

    percent: float | None = None
    amount: float | None = None
    field: str
    """The alert's name for it, for error messages (`stopLoss.percent`, `sl_pct`)."""

    def describe(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else f"{self.amount:g}"


class RelativeBracket(BaseModel):
    """A stop-loss and take-profit given as distances, to be placed once the entry is known."""

    model_config = ConfigDict(frozen=True)

    stop_loss: PriceOffset | None = None
    take_profit: PriceOffset | None = None


def price_away(entry: float, offset: PriceOffset, side: OrderSide, *, profit: bool) -> float:
    """The price `offset` away from `entry`: above it for a buy's take-profit and a sell's
    stop-loss, below it otherwise. Rounded to 12 significant digits to drop float noise."""
    distance = entry * offset.percent / 100 if offset.percent is not None else offset.amount or 0
    upward = (side is OrderSide.BUY) == profit
    return round_price(entry + distance if upward else entry - distance)


def round_price(value: float) -> float:
    return float(f"{value:.12g}")


def resolve_bracket(
    fields: dict[str, Any], bracket: RelativeBracket, entry: float, side: OrderSide
) -> None:
    """Write the bracket's prices into order `fields`, measured from `entry`."""
    if bracket.stop_loss is not None:
        fields["stop_loss"] = price_away(entry, bracket.stop_loss, side, profit=False)
    if bracket.take_profit is not None:
        fields["take_profit"] = price_away(entry, bracket.take_profit, side, profit=True)
