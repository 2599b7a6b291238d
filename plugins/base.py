"""The extension point: what every execution back end implements, and what it declares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from plugins.errors import NotSupported
from plugins.orders import (
    AccountBalance,
    ExecutionResult,
    MarketData,
    Order,
    OrderSide,
    SymbolSpecs,
)

LOOK_UP_ORDERS = "look up orders by client id"
REPORT_BALANCE = "report its balance"
REPORT_POSITIONS = "report positions"
REPORT_SYMBOL_SPECS = "report symbol specs"
MOVE_POSITION_STOP = "move a position's stop"
"""The optional abilities, as `NotSupported` names them."""
NATIVE, MANAGED, UNAVAILABLE = "native", "managed", "unavailable"
"""How a part of managed exits runs: held by the broker, by tradehook from polled prices, or not
at all (a plugin without quotes)."""


class PluginConfig(BaseModel):
    """Options of one configured plugin (a `[plugins.NAME]` table, less its `type`).

    Each plugin type subclasses this with its own fields; unknown keys are refused so that a
    typo fails at start instead of being ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=PluginConfig)


class PluginCapabilities(BaseModel):
    """What a plugin can do, declared so that callers read it instead of guessing.

    `PluginRegistry` checks the flags of the optional abilities before it asks a plugin, and
    raises `NotSupported` for one that is not declared. All flags are shown to the operator by
    `GET /api/plugins`.
    """

    model_config = ConfigDict(frozen=True)

    native_stop_loss_take_profit: bool = False
    """Stop-loss and take-profit travel with the entry order (else the plugin places them after
    it fills). The ccxt plugin sets it per exchange at start and places brackets by it; for the
    other plugins it is fixed by what their broker does."""
    client_order_ids: bool = False
    """The broker stores our client order id with the order. `PluginRegistry.lookup_order`
    requires it, since a lookup by our id needs the broker to have kept it."""
    lookup_by_client_order_id: bool = False
    """`lookup_order` can find an order by our client order id, so the executor's
    reconciliation can settle an unknown outcome, and a resend after a crash cannot duplicate.
    Read (with `client_order_ids`) by `PluginRegistry.lookup_order`."""
    unsent_orders_not_found: bool = False
    """With `lookup_by_client_order_id`: a lookup of an id that was never sent answers that
    the broker holds no such order, soon, rather than waiting and leaving it unknown (as
    NinjaTrader's file interface must, for want of a way to tell). Only then does the executor
    open the attempts of a lane's waiting signals as they are stored: after a crash each of
    them is looked up before it is resent, and an unsent one must come back as not found."""
    partial_fills: bool = False
    """Results may report partially filled orders. Nothing reads it: it is reported to the
    operator through `/api/plugins` only."""
    balance: bool = False
    """`fetch_balance` reports the account's equity (sizing by percent of equity or by risk).
    Read by `PluginRegistry.fetch_balance`."""
    positions: bool = False
    """`fetch_position` reports the net position in a symbol (sizing by percent of position, the
    `max_position` rule). Read by `PluginRegistry.fetch_position`."""
    symbol_specs: bool = False
    """`fetch_symbol_specs` reports a symbol's digits, point, pip and contract size (stops and
    entries given in pips). Read by `PluginRegistry.fetch_symbol_specs`."""
    quotes: bool = True
    """`fetch_data` answers with the market's prices. False for a plugin whose broker gives
    none (NinjaTrader's file interface): managed exits, which follow the prices, are refused on
    it."""
    position_stop: bool = False
    """The broker holds a protective stop per position, which `move_position_stop` places and
    moves: managed exits keep their stop there (a trailing stop's and a break-even's moves are
    sent to it), so the position keeps its stop while tradehook is down. Without it tradehook
    holds the stop and closes at market when its polled price crosses it. Read by
    `PluginRegistry.move_position_stop`."""

    @property
    def exit_parts(self) -> dict[str, str]:
        """Each part of managed exits, `native` (the broker holds it), `managed` (tradehook
        decides from the plugin's prices and sends the orders or moves) or `unavailable` (the
        plugin gives no prices to follow)."""
        if not self.quotes:
            return dict.fromkeys(("stop", "trailing_stop", "break_even", "take_profits"),
                                 UNAVAILABLE)
        return {"stop": NATIVE if self.position_stop else MANAGED, "trailing_stop": MANAGED,
                "break_even": MANAGED, "take_profits": MANAGED}


class PluginDescription(BaseModel):
    """What an instance tells its operator beyond its capabilities (`GET /api/plugins`,
    `tradehook check`): facts about its broker, and warnings where its guarantees are weaker
    than the others'."""

    model_config = ConfigDict(frozen=True)

    details: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class ExecutionPlugin(ABC, Generic[ConfigT]):
    """One execution back end (a paper account, an exchange, a trading terminal).

    The life of a plugin: construct with its registry name, `await init(config)` once with its
    already validated `config_model`, then any number of concurrent calls, then
    `await close()`. Used before `init` or after `close`, a plugin raises `NotStarted`.

    `execute_order` returns the broker's final answer (filled, partially filled, placed,
    cancelled or rejected). It raises from `plugins.errors`: `OrderRejected` for a final refusal,
    `TemporaryError` when nothing was placed and a retry may work, `OutcomeUnknown` when the
    order may have reached the broker. The order's `client_order_id` is the signal id; a plugin
    that declares `client_order_ids` passes it to the broker.

    `lookup_order`, `fetch_balance`, `fetch_position`, `fetch_symbol_specs` and
    `move_position_stop` are optional: a plugin that implements one declares it in
    `capabilities`, and callers reach it through `PluginRegistry`, which reads the flag first.
    """

    config_model: ClassVar[type[PluginConfig]] = PluginConfig
    """The options model of this plugin type; `init` receives an instance of it."""
    capabilities: PluginCapabilities = PluginCapabilities()
    """Declared by each plugin type; an instance may refine it in `init` once it knows its
    broker (an exchange that takes stop-loss and take-profit with the entry, say)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @abstractmethod
    async def init(self, config: ConfigT) -> None:
        """Connect with this (validated) configuration; raise `PluginConfigError` when the
        plugin cannot start."""

    @abstractmethod
    async def execute_order(self, order: Order) -> ExecutionResult:
        """Send one order to the broker and return its answer."""

    @abstractmethod
    async def fetch_data(self, symbol: str) -> MarketData:
        """Return the current quote for a symbol."""

    @abstractmethod
    async def health_check(self) -> bool:
        """True when the back end is reachable and able to trade."""

    def describe(self) -> PluginDescription:
        """Facts and warnings for the operator; nothing by default."""
        return PluginDescription()

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        """Find the order placed with this client order id; None only when the broker certainly
        has none (the executor then sends it again): when in doubt, raise `TemporaryError`
        (ask again later) or `OutcomeUnknown`.

        `symbol` is the order's symbol, for brokers that look orders up per symbol; `order` the
        order as it was sent, for a plugin that finishes what it started (a bracket to place
        once the entry is found after a restart).
        Declared by `lookup_by_client_order_id`; the default raises `NotSupported`.
        """
        raise NotSupported.ability(self.name, LOOK_UP_ORDERS)

    async def fetch_balance(self) -> AccountBalance:
        """The account's equity, for sizing by percent of equity or by risk.

        Declared by `balance`; the default raises `NotSupported`.
        """
        raise NotSupported.ability(self.name, REPORT_BALANCE)

    async def fetch_position(self, symbol: str) -> float:
        """The net open position in `symbol`, in the units orders are given in: positive long,
        negative short, 0.0 when flat.

        Declared by `positions`; the default raises `NotSupported`.
        """
        raise NotSupported.ability(self.name, REPORT_POSITIONS)

    async def fetch_symbol_specs(self, symbol: str) -> SymbolSpecs:
        """How the broker quotes `symbol`: its digits, point and pip. Raises `NotSupported`
        for a symbol whose point this plugin cannot know, and `UnknownSymbol` for one the
        broker does not list.

        Declared by `symbol_specs`; the default raises `NotSupported`.
        """
        raise NotSupported.ability(self.name, REPORT_SYMBOL_SPECS)

    async def move_position_stop(self, symbol: str, side: OrderSide, stop_price: float) -> None:
        """Place or move the protective stop of the open `side` position in `symbol` (the side
        that opened it) to `stop_price`; when the market crosses it, the broker closes what is
        left of the position. Raises `OrderRejected` when there is no such position or the
        stop is on the wrong side of the market.

        Declared by `position_stop`; the default raises `NotSupported`.
        """
        raise NotSupported.ability(self.name, MOVE_POSITION_STOP)

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the plugin is not used afterwards."""
