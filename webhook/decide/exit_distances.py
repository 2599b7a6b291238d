"""Managed exits given in pips, as PineConnector's EA takes them, until the broker says what a pip
is.

    60123456789,buy,EURUSD,risk=1,sl=20,betrigger=15,beoffset=2,trailtrig=30,traildist=20

`betrigger=15,beoffset=2`: once 15 pips in profit, the stop moves to the entry plus 2 pips.
`trailtrig=30,traildist=20,trailstep=5`: once 30 pips in profit, a stop trails 20 pips behind
the best price, moved in steps of at least 5 pips. The order model measures these distances in
price units (`plugins.orders.ManagedExits`); one pip is the broker's `SymbolSpecs.pip`, so they
are converted when the signal is decided (`webhook.decide.protective_prices`), or the signal is
refused where the plugin cannot say the symbol's pip size.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from webhook.decide.quantities import round_price

Pips = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class PipTrailingStop(BaseModel):
    """`plugins.orders.TrailingStop` by amount, in pips."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    distance: Pips
    trigger: Pips | None = None
    step: Pips | None = None


class PipBreakEven(BaseModel):
    """`plugins.orders.BreakEven` after a trigger distance, in pips."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trigger: Pips
    offset: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0


class ExitDistances(BaseModel):
    """An entry's trailing stop and break-even move, their distances in pips."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trailing_stop: PipTrailingStop | None = None
    break_even: PipBreakEven | None = None

    def in_price(self, pip: float) -> dict[str, Any]:
        """The order's `exits`, one pip being `pip` in price (validated by the order model)."""
        exits: dict[str, Any] = {}
        if self.trailing_stop is not None:
            trail = self.trailing_stop
            exits["trailing_stop"] = {
                "amount": _price(trail.distance, pip),
                "trigger": None if trail.trigger is None else _price(trail.trigger, pip),
                "step": None if trail.step is None else _price(trail.step, pip),
            }
        if self.break_even is not None:
            exits["break_even"] = {"trigger": _price(self.break_even.trigger, pip),
                                   "offset": _price(self.break_even.offset, pip)}
        return exits


def _price(pips: float, pip: float) -> float:
    return round_price(pips * pip)
