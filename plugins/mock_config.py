"""The paper account's options, and the prices it knows before any order or price file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field

from plugins.base import PluginConfig

STARTING_PRICES = {"BTC": 67_500.0, "ETH": 3_500.0, "ES": 5_000.0, "EURUSD": 1.085}
DEFAULT_PRICE = 100.0
_ES_FUTURE = re.compile(r"^M?ES(?:$|[\d!\s]|[FGHJKMNQUVXZ]\d)")


class MockSymbolSpecs(PluginConfig):
    """How the paper broker quotes one symbol: `digits = 3` for a yen pair, 5 for EURUSD."""

    digits: Annotated[int, Field(ge=0, le=12)]
    tick_size: Annotated[float, Field(gt=0)] | None = None
    contract_size: Annotated[float, Field(gt=0)] | None = None
    tick_value: Annotated[float, Field(gt=0)] | None = None
    """One tick's profit on one unit, in the account currency (as MetaTrader reports it)."""
    quantity_in_base: bool = True
    """False to paper-trade lots or contracts (`SymbolSpecs.quantity_in_base`)."""


class MockConfig(PluginConfig):
    delay_ms: Annotated[float, Field(ge=0)] = 50.0
    slippage: Annotated[float, Field(ge=0, lt=0.1)] = 0.0001
    prices: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    """Starting prices by symbol, on top of the built-in ones."""
    equity: Annotated[float, Field(gt=0)] = 100_000.0
    """The paper account's equity, for sizing by percent of equity; it does not change."""
    currency: str = "USD"
    fee_rate: Annotated[float, Field(ge=0, lt=0.1)] = 0.0
    """The paper commission, as a share of each fill's value (0.001 is 0.1%)."""
    ticks: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    """Price ticks by symbol, reported with each fill so slippage can be counted in ticks."""
    symbol_specs: dict[str, MockSymbolSpecs] = Field(default_factory=dict)
    """Digits (and tick and contract size) by symbol, for stops given in pips; a symbol not
    listed has none, as a paper account cannot know a real broker's."""
    state_file: Path | None = None
    """Where the account keeps its positions, stops, prices and orders across restarts."""
    prices_file: Path | None = None
    """A JSON object of prices by symbol that moves the paper prices whenever it changes."""


def starting_price(symbol: str) -> float | None:
    """The built-in price of a well-known symbol; None for any other."""
    base = symbol.upper().rsplit(":", 1)[-1]
    if base.startswith(("BTC", "XBT")):
        return STARTING_PRICES["BTC"]
    if base.startswith("ETH"):
        return STARTING_PRICES["ETH"]
    if base.startswith("EURUSD"):
        return STARTING_PRICES["EURUSD"]
    if _ES_FUTURE.match(base):
        return STARTING_PRICES["ES"]
    return None
