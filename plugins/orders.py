"""The types that cross the boundary between tradehook and an execution plugin.

An `Order` is what a signal asks for; an `ExecutionResult` is what the broker made of it;
`MarketData` is a quote; `AccountBalance` is what the account is worth; `SymbolSpecs` is how a
symbol's prices are quoted. All are pydantic models, so anything that builds one from outside
data (an alert, a broker reply) gets the same validation and the same error messages.

The managed exits an order may carry (`ManagedExits`) are defined in `plugins.exits`, and the
field helpers both use in `plugins.order_fields`; this module exports them too, so that the
boundary's types are all imported from here.
"""

from __future__ import annotations

import time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from plugins.exits import (
    MAX_TAKE_PROFIT_LEVELS,
    BreakEven,
    ManagedExits,
    TakeProfitLevel,
    TrailingStop,
)
from plugins.order_fields import PositiveFloat, invalid_field, number_text

__all__ = [
    "AccountBalance",
    "BreakEven",
    "decimals_of",
    "DEFAULT_CONFIDENCE",
    "ExecutionResult",
    "ExecutionStatus",
    "invalid_field",
    "ManagedExits",
    "MarketData",
    "MAX_TAKE_PROFIT_LEVELS",
    "number_text",
    "Order",
    "OrderAction",
    "OrderSide",
    "OrderType",
    "pip_size",
    "PositiveFloat",
    "SymbolSpecs",
    "TakeProfitLevel",
    "TimeInForce",
    "TrailingStop",
]


DEFAULT_CONFIDENCE = 0.6


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class OrderAction(StrEnum):
    """What the order does to the position.

    open: add to (or start) a position on `side`. close: flatten the position (only the long
    or short one when `side` says which to sell or buy back; `quantity` closes part of it).
    reverse: flatten, then open `quantity` the other way. cancel: cancel open orders on the
    symbol. target: reach the net position `target_position` (`3`, `-2`, `0`); the executor
    asks the broker for the position right before sending and sends only the difference, as
    one of the other actions, so a plugin never receives a target itself.
    """

    OPEN = "open"
    CLOSE = "close"
    REVERSE = "reverse"
    CANCEL = "cancel"
    TARGET = "target"


class TimeInForce(StrEnum):
    """How long an order stays working. None on an order means the broker's default."""

    DAY = "day"
    GTC = "gtc"
    """good till cancelled"""
    IOC = "ioc"
    """immediate or cancel: fill what can be filled now, cancel the rest"""
    FOK = "fok"
    """fill or kill: all at once or nothing"""
    OPG = "opg"
    """at the market's opening"""
    CLS = "cls"
    """at the market's close"""




class Order(BaseModel):
    """One order as a signal asks for it, before any broker rounding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: Annotated[str, Field(min_length=1, max_length=64)]
    side: OrderSide | None = None
    order_type: OrderType = OrderType.MARKET
    quantity: PositiveFloat | None = None
    price: PositiveFloat | None = None
    stop_price: PositiveFloat | None = None
    stop_loss: PositiveFloat | None = None
    take_profit: PositiveFloat | None = None
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = DEFAULT_CONFIDENCE
    action: OrderAction = OrderAction.OPEN
    client_order_id: Annotated[str, Field(max_length=64)] | None = None
    comment: Annotated[str, Field(max_length=256)] | None = None
    time_in_force: TimeInForce | None = None
    """None: the broker's default. A plugin that cannot honour the one asked for refuses the
    order (`OrderRejected`) rather than send it with another."""
    alert_time: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """Unix seconds at which the alert says it was made (TradingView's `{{timenow}}`,
    TradersPost's `time`); how stale the order is gets measured from it."""
    target_position: Annotated[float, Field(allow_inf_nan=False)] | None = None
    """Of `action = "target"`: the net position wanted, positive long, negative short."""
    exits: ManagedExits | None = None
    """Of an entry (`open`, `reverse`): how its position is brought out (trailing stop,
    break-even, take-profit ladder), after it fills."""

    @model_validator(mode="wrap")
    @classmethod
    def _checked_once(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """An `Order` is checked when it is built from data. An instance given where an order
        is expected (a `ParsedSignal`'s, a `NewSignal`'s) was checked then and is taken as it
        is: pydantic would run the checks again for every model that holds it. (`model_copy`
        checks nothing: whoever changes a field with it keeps the order consistent.)"""
        if isinstance(data, cls):
            return data
        return handler(data)._check_consistency()

    def _check_consistency(self) -> Self:
        if (self.action is OrderAction.TARGET) != (self.target_position is not None):
            if self.target_position is None:
                raise invalid_field("target_position", "target_position is required with "
                                    "action target: the net position wanted (3, -2, 0)")
            raise invalid_field("target_position", "target_position goes only with action "
                                "target")
        if self.action is OrderAction.TARGET:
            self._check_target()
        if self.action in (OrderAction.OPEN, OrderAction.REVERSE):
            if self.side is None:
                raise invalid_field("side", f"side is required to {self.action.value} a position")
            if self.action is OrderAction.OPEN and self.quantity is None:
                raise invalid_field("quantity", "quantity is required to open a position")
            self._check_prices_for_type()
            self._check_bracket()
            self._check_exits()
        elif self.exits is not None:
            raise invalid_field("exits", f"exits go only with an entry (open or reverse), not "
                                f"with action {self.action.value}")
        return self

    def _check_exits(self) -> None:
        if self.exits is None or not self.exits.take_profits:
            return
        if self.take_profit is not None:
            raise invalid_field("exits.take_profits", "take_profit and a take-profit ladder "
                                "exclude each other: give the single target as one level")
        entry, buying = self.entry_price, self.side is OrderSide.BUY
        for number, level in enumerate(self.exits.take_profits, start=1):
            if entry is not None and (level.price <= entry if buying else level.price >= entry):
                where = "above" if buying else "below"
                raise invalid_field("exits.take_profits", f"level {number} at "
                                    f"{number_text(level.price)} must be {where} the entry "
                                    f"{number_text(entry)} for a {self.side}")

    def _check_target(self) -> None:
        for name in ("side", "quantity", "stop_loss", "take_profit"):
            if getattr(self, name) is not None:
                raise invalid_field(name, f"a target order takes no {name}: the side and "
                                    "quantity are the difference to the broker's position")
        self._check_prices_for_type()

    def _check_prices_for_type(self) -> None:
        needs_price = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_price and self.price is None:
            raise invalid_field("price", f"price is required for a {self.order_type.value} order")
        if needs_stop and self.stop_price is None:
            kind = self.order_type.value
            raise invalid_field("stop_price", f"stop_price is required for a {kind} order")

    def _check_bracket(self) -> None:
        entry = self.entry_price
        buying = self.side is OrderSide.BUY
        below, above = ("stop_loss", "take_profit") if buying else ("take_profit", "stop_loss")
        low, high = getattr(self, below), getattr(self, above)
        side = f"a {self.side}"
        if entry is not None:
            if low is not None and low >= entry:
                message = f"{below} {low} must be below the entry {entry} for {side}"
                raise invalid_field(below, message)
            if high is not None and high <= entry:
                message = f"{above} {high} must be above the entry {entry} for {side}"
                raise invalid_field(above, message)
        elif low is not None and high is not None and low >= high:
            raise invalid_field(below, f"{below} {low} must be below {above} {high} for {side}")

    def describe(self, symbol: str | None = None, *, on: str | None = None) -> str:
        """`buy 0.1 BTCUSDT`, `close ES 12-25`, `sell 2 BTC/USDT on binance`: what the order asks,
        for messages. `symbol` names the broker's market or instrument, when it is not the
        order's own symbol; `on` names the venue."""
        parts = [] if self.action is OrderAction.OPEN else [self.action.value]
        if self.target_position is not None:
            parts.append(f"position {number_text(self.target_position)}")
        if self.side is not None:
            parts.append(self.side.value)
        if self.quantity is not None:
            parts.append(number_text(self.quantity))
        parts.append(symbol or self.symbol)
        if on is not None:
            parts += ["on", on]
        return " ".join(parts)

    @property
    def entry_price(self) -> float | None:
        """The price the bracket is measured from: the limit, else the stop, else the signal's."""
        if self.order_type is OrderType.STOP:
            return self.stop_price
        return self.price


class ExecutionStatus(StrEnum):
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    PLACED = "placed"  # accepted by the broker, resting (a limit or stop not yet triggered)
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class ExecutionResult(BaseModel):
    """What the broker made of an order."""

    model_config = ConfigDict(frozen=True)

    success: bool
    status: ExecutionStatus
    order_id: str | None = None
    client_order_id: str | None = None
    filled_quantity: float = 0.0
    average_price: float | None = None
    fee: float | None = None
    """What the broker charged for the fill, in the quote currency, when it says."""
    price_tick: float | None = None
    """The market's smallest price step, when the plugin knows it (slippage is then also
    counted in ticks)."""
    error: str | None = None
    timestamp: float = Field(default_factory=time.time)

    @classmethod
    def rejected(cls, error: str, *, client_order_id: str | None = None) -> ExecutionResult:
        return cls(
            success=False,
            status=ExecutionStatus.REJECTED,
            error=error,
            client_order_id=client_order_id,
        )


class AccountBalance(BaseModel):
    """The account's value, for sizing by percent of equity and by risk."""

    model_config = ConfigDict(frozen=True)

    currency: str
    equity: Annotated[float, Field(allow_inf_nan=False)]
    """Balance plus open profit and loss, in `currency` (assumed to be the quote currency of the
    symbols traded when sizing by percent of equity)."""
    free: float | None = None
    """What is available for new orders (free balance, free margin), when the broker says."""


class MarketData(BaseModel):
    """A quote for one symbol."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    bid: float
    ask: float
    last: float
    volume: float = 0.0
    timestamp: float = Field(default_factory=time.time)


class SymbolSpecs(BaseModel):
    """How the broker quotes one symbol, for distances given in points or pips.

    `point` is the smallest step of the quotes (MetaTrader's `point`, `10 ** -digits`);
    `tick_size` the smallest price change the broker accepts where it is not the point (an
    index quoted to 0.01 that moves by 0.25). `pip` is the distance one pip stands for, as
    MetaTrader expert advisors such as PineConnector's measure it (`pip_size`).
    """

    model_config = ConfigDict(frozen=True)

    symbol: str
    digits: Annotated[int, Field(ge=0, le=12)]
    point: PositiveFloat
    pip: PositiveFloat
    tick_size: PositiveFloat | None = None
    contract_size: PositiveFloat | None = None
    """Units of the base asset in one lot or contract, when the broker says."""
    tick_value: PositiveFloat | None = None
    """What a move of one tick (`tick_size`, else `point`) makes or loses on one unit of the
    order's quantity (one lot), in the account's currency, when the broker says (MetaTrader's
    `trade_tick_value`). Sizing by the money lost at a stop needs it where a unit is a lot."""
    quantity_in_base: bool = True
    """An order's quantity counts units of the asset itself, priced in the quote currency, so
    that one unit moving one tick makes one tick (crypto spot, the paper account). False for
    lots and futures contracts: sizing by risk then needs `tick_value`, and refuses without."""


def pip_size(point: float, digits: int) -> float:
    """One pip: ten points on symbols quoted with 3 or 5 digits (the fractional pip of
    USDJPY's 150.123 and EURUSD's 1.08512), else one point (EURUSD at 4 digits, gold at 2,
    indices). PineConnector's EA guide: "If EURUSD is at 1.0567, a buy alert with sl=12 will
    place the SL at 1.0555"; for other instruments it says a pip "might mean 1 point or 10
    points", which is this rule."""
    return float(f"{point * 10 if digits in (3, 5) else point:.12g}")


def decimals_of(step: float) -> int:
    """The decimals a price step is written with: 2 for 0.25, 1 for 0.1, 0 for 5."""
    exponent = Decimal(str(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
