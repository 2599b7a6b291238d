"""Managed exits: how an entry's position is brought out (`Order.exits`): a trailing stop, a
break-even move and a ladder of take-profits, each optional, distances in price units.
Executed by tradehook's exit plans (`webhook.execute.exits`), with the stop held at the broker
where the plugin can move it (`PluginCapabilities.position_stop`)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plugins.order_fields import PositiveFloat, invalid_field, number_text

Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
MAX_TAKE_PROFIT_LEVELS = 6
"""As many levels as the most generous of the services traders compare (WunderTrading's six)."""


class TrailingStop(BaseModel):
    """A stop that follows the price at a distance, never moving back.

    `amount` is the distance in price units, `percent` the distance as a percent of the best
    price since the entry (one of the two). `trigger` is how far in profit the position must be
    (in price units from the entry) before the stop starts to trail (PineConnector's `trailtrig`);
    None trails from the entry. `step` is the least move of the stop worth sending to the broker
    (PineConnector's `trailstep`); None moves it on every better price.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: PositiveFloat | None = None
    percent: Annotated[float, Field(gt=0, lt=100, allow_inf_nan=False)] | None = None
    trigger: PositiveFloat | None = None
    step: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_distance(self) -> Self:
        if (self.amount is None) == (self.percent is None):
            raise invalid_field("exits.trailing_stop", "a trailing stop takes either amount "
                                "(a price distance) or percent, not both and not neither")
        return self

    def distance(self, best_price: float) -> float:
        """The stop's distance from the best price since the entry."""
        if self.percent is not None:
            return best_price * self.percent / 100
        return self.amount or 0.0


class BreakEven(BaseModel):
    """Move the stop to the entry (plus `offset` in the position's favour) once the position is
    `trigger` in profit (a price distance from the entry; PineConnector's `betrigger`), or once
    the first take-profit level has filled (`after_take_profit`), whichever is set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trigger: PositiveFloat | None = None
    after_take_profit: bool = False
    offset: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _one_trigger(self) -> Self:
        if (self.trigger is None) == (not self.after_take_profit):
            raise invalid_field("exits.break_even", "a break-even move takes either trigger "
                                "(a price distance in profit) or after_take_profit, not both "
                                "and not neither")
        return self


class TakeProfitLevel(BaseModel):
    """One rung of a take-profit ladder: close `share` of the entry's quantity at `price`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    price: PositiveFloat
    share: Share


class ManagedExits(BaseModel):
    """How an entry's position is brought out: a trailing stop, a break-even move and a ladder
    of take-profits, each optional. Native where the plugin's broker has them (its
    capabilities say which), else managed by tradehook from the plugin's prices."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trailing_stop: TrailingStop | None = None
    break_even: BreakEven | None = None
    take_profits: Annotated[tuple[TakeProfitLevel, ...], Field(max_length=MAX_TAKE_PROFIT_LEVELS)]\
        = ()

    @model_validator(mode="after")
    def _check_levels(self) -> Self:
        if self.trailing_stop is None and self.break_even is None and not self.take_profits:
            raise invalid_field("exits", "exits names none of trailing_stop, break_even and "
                                "take_profits")
        total = sum(level.share for level in self.take_profits)
        if total > 1 + 1e-9:
            raise invalid_field("exits.take_profits", f"the take-profit shares add up to "
                                f"{number_text(total)}, more than the whole position (1)")
        if self.break_even is not None and self.break_even.after_take_profit \
                and not self.take_profits:
            raise invalid_field("exits.break_even", "after_take_profit needs take_profits")
        return self
