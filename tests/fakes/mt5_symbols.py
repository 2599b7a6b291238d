"""The fake terminal's symbols: an FX pair at Market execution, one at Instant execution, a yen
pair (3 digits), gold, and an exchange-traded index whose tick size is not its point.

Fields follow `symbol_info` (MetaTrader5 for Python, "symbol_info"; MQL5 "Symbol Properties",
mql5.com/en/docs/constants/environment_state/marketinfoconstants): `trade_tick_size` is the
minimal price change, `trade_stops_level` and `trade_freeze_level` are in points,
`trade_exemode` is the execution mode, `filling_mode` and `expiration_mode` are masks.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.fakes import mt5_structures as c

ALL_EXPIRY = (c.SYMBOL_EXPIRATION_GTC | c.SYMBOL_EXPIRATION_DAY | c.SYMBOL_EXPIRATION_SPECIFIED
              | c.SYMBOL_EXPIRATION_SPECIFIED_DAY)


@dataclass
class Symbol:
    name: str
    bid: float
    ask: float
    digits: int = 5
    volume_min: float = 0.01
    volume_max: float = 100.0
    volume_step: float = 0.01
    filling_mode: int = c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC
    exemode: int = c.SYMBOL_TRADE_EXECUTION_MARKET
    tick: float = 0.0
    """trade_tick_size; 0 means one point."""
    stops_level: int = 0
    freeze_level: int = 0
    expiration_mode: int = ALL_EXPIRY
    liquidity: float = 0.0
    """Volume that fills at once (0: any); an IOC order above it fills partly."""
    empty_ticks: int = 0
    """How many `symbol_info_tick` calls after `symbol_select` answer a tick of zeros, as a
    terminal does before the symbol's first quote arrives (the pages do not say: unconfirmed)."""
    visible: bool = False
    empty_left: int = 0
    contract_size: float = 100_000.0
    """trade_contract_size: units of the base currency in one lot (100 000 for FX pairs, 100
    ounces for gold at most brokers, broker-defined for index CFDs)."""

    @property
    def point(self) -> float:
        return float(10**-self.digits)

    @property
    def tick_size(self) -> float:
        return self.tick or self.point

    @property
    def tick_value(self) -> float:
        """trade_tick_value: one tick's profit on one lot in the deposit currency (USD here).
        With a USD profit currency it is tick x contract size; otherwise the terminal converts
        at the rate of the profit currency to USD, which the fake takes as the symbol's own bid
        (right for USDJPY; for a cross such as GBPJPY the terminal would use USDJPY's rate,
        which the fake does not quote: an approximation)."""
        value = self.tick_size * self.contract_size
        return value if self.name[3:6] == "USD" else value / self.bid

    def info(self) -> c.SymbolInfo:
        return c.SymbolInfo(
            custom=False, select=self.visible, visible=self.visible, digits=self.digits,
            spread=round((self.ask - self.bid) / self.point), trade_mode=c.SYMBOL_TRADE_MODE_FULL,
            trade_stops_level=self.stops_level, trade_freeze_level=self.freeze_level,
            trade_exemode=self.exemode, expiration_mode=self.expiration_mode,
            filling_mode=self.filling_mode, bid=self.bid, ask=self.ask, last=0.0,
            point=self.point, trade_tick_size=self.tick_size,
            trade_contract_size=self.contract_size, trade_tick_value=self.tick_value,
            volume_min=self.volume_min, volume_max=self.volume_max, volume_step=self.volume_step,
            currency_base=self.name[:3], currency_profit=self.name[3:6], description=self.name,
            name=self.name, path=f"Forex\\{self.name}",
        )


def default_symbols() -> dict[str, Symbol]:
    return {
        s.name: s
        for s in (
            Symbol("EURUSD", 1.08500, 1.08512, stops_level=10),
            Symbol("GBPUSD", 1.26400, 1.26415, exemode=c.SYMBOL_TRADE_EXECUTION_INSTANT,
                   filling_mode=c.SYMBOL_FILLING_FOK),
            Symbol("GBPJPY", 190.112, 190.131, digits=3, stops_level=20),
            Symbol("XAUUSD", 2350.10, 2350.40, digits=2, filling_mode=c.SYMBOL_FILLING_IOC,
                   stops_level=50, contract_size=100.0),
            Symbol("US500", 5000.00, 5000.50, digits=2, tick=0.25, volume_min=0.1,
                   volume_step=0.1, filling_mode=0, exemode=c.SYMBOL_TRADE_EXECUTION_EXCHANGE,
                   expiration_mode=c.SYMBOL_EXPIRATION_GTC),
        )
    }
