"""The risk limits a source (`[sources.NAME.risk]`) or a plugin (`[plugins.NAME.risk]`) may set.

    [sources.tv.risk]
    allowed_symbols = ["BTCUSDT", "ETH*"]
    max_quantity = 1            # per order, in units
    max_notional = 5000         # per order, quantity x price, in quote currency
    max_position = 2            # the net position after the order, in units
    max_signals_per_minute = 10
    trading_hours = { start = "09:30", end = "16:00", timezone = "America/New_York" }

    [sources.tv.risk.symbols."BTC*"]   # overrides for the symbols that match
    max_quantity = 0.5

A source's limits apply to the symbol as the alert names it; a plugin's to the symbol as the
broker names it (after `symbol_maps`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from webhook.decide.symbols import best_match, check_patterns
from webhook.decide.trading_hours import TradingHours

Limit = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SymbolLimits(BaseModel):
    """Limits on orders for one symbol (or pattern); None means no limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_quantity: Limit | None = None
    max_notional: Limit | None = None
    max_position: Limit | None = None


class RiskLimits(SymbolLimits):
    allowed_symbols: list[str] | None = None
    """Symbol patterns this source or plugin may trade; None: any."""
    max_signals_per_minute: Annotated[int, Field(ge=1)] | None = None
    """Accepted signals in any 60 seconds; the next one is rejected."""
    trading_hours: TradingHours | None = None
    symbols: dict[str, SymbolLimits] = Field(default_factory=dict)
    """Per-symbol overrides by pattern; the most specific matching pattern wins."""

    @field_validator("allowed_symbols", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):  # from an environment variable: "BTCUSDT, ETH*"
            value = value.replace(",", " ").split()
        return check_patterns(value) if isinstance(value, list) else value

    @field_validator("symbols")
    @classmethod
    def _check_symbol_patterns(cls, value: dict[str, SymbolLimits]) -> dict[str, SymbolLimits]:
        check_patterns(value)
        return value

    def limit(self, name: str, symbol: str) -> tuple[float | None, str]:
        """The limit `name` (max_quantity, max_notional, max_position) for `symbol`, and its key
        below `risk` (`max_quantity` or `symbols."BTC*".max_quantity`) for rejection reasons."""
        pattern = best_match(self.symbols, symbol)
        if pattern is not None:
            value: float | None = getattr(self.symbols[pattern], name)
            if value is not None:
                return value, f'symbols."{pattern}".{name}'
        return getattr(self, name), name

    @property
    def empty(self) -> bool:
        return self == _NO_LIMITS


_NO_LIMITS = RiskLimits()

