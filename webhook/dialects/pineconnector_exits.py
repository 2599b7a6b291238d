"""PineConnector's breakeven and pips trailing parameters, read as the EA reads them: in pips.

    60123456789,buy,EURUSD,risk=1,sl=20,betrigger=15,beoffset=2
    60123456789,buy,EURUSD,risk=1,sl=20,trailtrig=30,traildist=20,trailstep=5

PineConnector's Syntax Guide (https://www.pineconnector.com/pages/syntax) has a "Breakeven"
section (`betrigger=`, `beoffset=`) and a "Pips Trailing" one (`trailtrig=`, `traildist=`,
`trailstep=`), apart from the "ATR Trailing" one; its cheat sheet
(https://docs.pineconnector.com/cheatsheet) ties the EA's Target Type to `sl=` and `tp=` only.
So these are pips whatever the source's `target_type`: `betrigger` the profit at which the stop
moves to the entry, `beoffset` how far past the entry, `trailtrig` the profit at which trailing
starts, `traildist` the distance kept behind the best price, `trailstep` the least move of the
stop. What the EA does with a `trailtrig=` or `trailstep=` without `traildist=`, or a `beoffset=`
without `betrigger=`, the stored pages do not say: those are refused, naming the one missing.
The pages document one `tp=` per alert and no take-profit ladder, so there is none here.
"""

from __future__ import annotations

from webhook.decide.exit_distances import ExitDistances, PipBreakEven, PipTrailingStop
from webhook.dialects.signal import to_number
from webhook.errors import PayloadError

TRAILING = ("traildist", "trailtrig", "trailstep")
BREAK_EVEN = ("betrigger", "beoffset")
EXIT_PARAMS = frozenset({*TRAILING, *BREAK_EVEN})
RENAMED = {"exits.trailing_stop": "traildist", "exits.break_even": "betrigger"}
"""The order's names for what these parameters become, for messages about them."""


def read_exit_distances(params: dict[str, str], action: str) -> ExitDistances | None:
    """The trailing stop and breakeven of an entry command, in pips; None when it has none."""
    given = [key for key in params if key in EXIT_PARAMS]
    if not given:
        return None
    if action != "open":
        raise PayloadError(given[0], "goes only with an entry command (buy, sell, buylimit, "
                                     "...): it manages the position the entry opens")
    pips = {key: _pips(key, params[key]) for key in given}
    trailing = None
    if any(key in pips for key in TRAILING):
        if "traildist" not in pips:
            raise PayloadError("traildist", "missing: trailtrig= and trailstep= need the "
                                            "trailing distance in pips")
        trailing = PipTrailingStop(distance=pips["traildist"], trigger=pips.get("trailtrig"),
                                   step=pips.get("trailstep"))
    break_even = None
    if any(key in pips for key in BREAK_EVEN):
        if "betrigger" not in pips:
            raise PayloadError("betrigger", "missing: beoffset= needs the profit in pips at "
                                            "which the stop moves to the entry")
        break_even = PipBreakEven(trigger=pips["betrigger"], offset=pips.get("beoffset", 0.0))
    return ExitDistances(trailing_stop=trailing, break_even=break_even)


def _pips(key: str, value: str) -> float:
    number = to_number(key, value)
    if number < 0 or (number == 0 and key != "beoffset"):
        least = "0 or more" if key == "beoffset" else "greater than 0"
        raise PayloadError(key, f"must be {least} (pips), got {number:g}")
    return number
