"""What an alert may say relative to things only the broker knows when the signal arrives.

A quantity may be in units, in quote currency, or a percentage of equity or of the position; a
stop-loss or take-profit may be a percentage, an amount or a number of pips away from the entry,
and a pending order's entry a percentage or pips away from the market (`PendingEntry`).
Dialects read these; the policy turns them into numbers once the plugin has said its price,
equity, position and symbol specs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugins.orders import OrderSide, OrderType
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
    """A distance from a price: a percentage of it, an amount in quote currency, or pips (which
    need the broker's symbol specs to become an amount: `in_pips_of`)."""

    model_config = ConfigDict(frozen=True)

    percent: float | None = None
    amount: float | None = None
    pips: float | None = None
    field: str
    """The alert's name for it, for error messages (`stopLoss.percent`, `sl_pct`)."""

    def describe(self) -> str:
        if self.percent is not None:
            return f"{self.percent:g}%"
        if self.pips is not None:
            return f"{self.pips:g} pips"
        return f"{self.amount:g}"

    def in_pips_of(self, pip: float) -> PriceOffset:
        """The same distance as an amount, one pip being `pip` in price."""
        if self.pips is None:
            return self
        return PriceOffset(amount=round_price(self.pips * pip), field=self.field)

    def distance_from(self, price: float) -> float:
        """The distance in price from `price` (pips must be converted first)."""
        if self.percent is not None:
            return price * self.percent / 100
        if self.pips is not None:
            raise ValueError("pips need the symbol's pip size first")
        return self.amount or 0.0


class RelativeBracket(BaseModel):
    """A stop-loss and take-profit given as distances, to be placed once the entry is known."""

    model_config = ConfigDict(frozen=True)

    stop_loss: PriceOffset | None = None
    take_profit: PriceOffset | None = None

    @property
    def in_pips(self) -> bool:
        return any(o is not None and o.pips is not None for o in (self.stop_loss, self.take_profit))

    def in_pips_of(self, pip: float) -> RelativeBracket:
        return RelativeBracket(
            stop_loss=self.stop_loss.in_pips_of(pip) if self.stop_loss else None,
            take_profit=self.take_profit.in_pips_of(pip) if self.take_profit else None,
        )


class PendingEntry(BaseModel):
    """A pending order whose entry is a distance from the market price when the signal is
    decided (PineConnector's Pending Order Entry in pips or percent): a buy limit and a sell
    stop below it, a buy stop and a sell limit above it. Until then the alert's order is a
    market order, and this says what it becomes."""

    model_config = ConfigDict(frozen=True)

    order_type: OrderType
    offset: PriceOffset


def price_away(entry: float, offset: PriceOffset, side: OrderSide, *, profit: bool) -> float:
    """The price `offset` away from `entry`: above it for a buy's take-profit and a sell's
    stop-loss, below it otherwise. Rounded to 12 significant digits to drop float noise."""
    distance = offset.distance_from(entry)
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
