"""The extension point: what every execution back end implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from plugins.orders import AccountBalance, ExecutionResult, MarketData, Order


class PluginConfig(BaseModel):
    """Options of one configured plugin (a `[plugins.NAME]` table, less its `type`).

    Each plugin type subclasses this with its own fields; unknown keys are refused so that a
    typo fails at start instead of being ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class PluginCapabilities(BaseModel):
    """What a plugin can do, declared so that the pipeline can read it instead of guessing."""

    model_config = ConfigDict(frozen=True)

    native_stop_loss_take_profit: bool = False
    """Stop-loss and take-profit travel with the entry order (else the plugin places them after)."""
    client_order_ids: bool = False
    """The broker stores our client order id with the order."""
    lookup_by_client_order_id: bool = False
    """`lookup_order` can find an order by our client order id, so an unknown outcome can be
    reconciled and a resend after a crash cannot duplicate."""
    partial_fills: bool = False
    """Results may report partially filled orders."""


class ExecutionPlugin(ABC):
    """One execution back end (a paper account, an exchange, a trading terminal).

    The life of a plugin: construct with its registry name, `await init(config)` once,
    then any number of concurrent `execute_order` / `fetch_data` / `health_check` calls,
    then `await close()`.

    `execute_order` returns the broker's final answer (filled, partially filled, placed,
    cancelled or rejected). It raises from `plugins.errors`: `OrderRejected` for a final refusal,
    `TemporaryError` when nothing was placed and a retry may work, `OutcomeUnknown` when the
    order may have reached the broker. The order's `client_order_id` is the signal id; a plugin
    that declares `client_order_ids` passes it to the broker.
    """

    config_model: ClassVar[type[PluginConfig]] = PluginConfig
    capabilities: PluginCapabilities = PluginCapabilities()
    """Declared by each plugin type; an instance may refine it in `init` once it knows its
    broker (an exchange that takes stop-loss and take-profit with the entry, say)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @abstractmethod
    async def init(self, config: PluginConfig) -> None:
        """Connect and check the configuration; raise `PluginConfigError` when it cannot start."""

    @abstractmethod
    async def execute_order(self, order: Order) -> ExecutionResult:
        """Send one order to the broker and return its answer."""

    @abstractmethod
    async def fetch_data(self, symbol: str) -> MarketData:
        """Return the current quote for a symbol."""

    @abstractmethod
    async def health_check(self) -> bool:
        """True when the back end is reachable and able to trade."""

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None
    ) -> ExecutionResult | None:
        """Find the order placed with this client order id; None when the broker has none.

        `symbol` is the order's symbol, for brokers that look orders up per symbol.

        Only plugins that declare `lookup_by_client_order_id` implement it.
        """
        raise NotImplementedError(f"plugin {self.name!r} cannot look up orders by client id")

    async def fetch_balance(self) -> AccountBalance:
        """The account's equity, for sizing by percent of equity or by risk.

        Optional: the default raises NotImplementedError, and signals that need it are then
        rejected with a reason that says the plugin cannot report its balance.
        """
        raise NotImplementedError(f"plugin {self.name!r} cannot report its balance")

    async def fetch_position(self, symbol: str) -> float:
        """The net open position in `symbol`, in the units orders are given in: positive long,
        negative short, 0.0 when flat. Used for sizing by percent of position and for the
        `max_position` risk rule.

        Optional: the default raises NotImplementedError (signals that need it are rejected).
        """
        raise NotImplementedError(f"plugin {self.name!r} cannot report positions")

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the plugin is not used afterwards."""
