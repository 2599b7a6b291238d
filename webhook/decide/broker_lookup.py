"""What the policy asks a plugin while deciding about a signal: a price, the equity, a position,
the symbol's specs.

Each is asked at most once per signal and only when a rule or the sizing needs it, with a time
limit, since TradingView gives up on an answer after 3 seconds. A plugin that cannot tell, fails
or is too slow yields `FactUnavailable` (`FactNotReported` when it does not report that at all),
which the policy turns into a rejection that says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from plugins.errors import NotSupported
from plugins.orders import AccountBalance, Order, OrderAction, OrderSide, SymbolSpecs
from plugins.registry import PluginRegistry
from webhook.errors import FactNotReported, FactUnavailable

T = TypeVar("T")


class BrokerLookup:
    """What one signal asks its plugin about one symbol, asked lazily through the registry and
    remembered for the rest of the signal's decision."""

    def __init__(
        self,
        registry: PluginRegistry,
        plugin: str,
        symbol: str,
        *,
        timeout: float,
        queued: Sequence[Order] = (),
    ) -> None:
        self._registry = registry
        self._name = plugin
        self._symbol = symbol
        self._timeout = timeout
        self._queued = queued
        """Orders already queued for this plugin and symbol, for the position rules."""
        self._quote: tuple[float, str] | None = None
        self._balance: AccountBalance | None = None
        self._position: float | None = None
        self._specs: SymbolSpecs | None = None

    @property
    def plugin_name(self) -> str:
        return self._name

    async def market_price(self, side: OrderSide | None) -> tuple[float, str]:
        """The price an order on `side` would trade at now (ask to buy, bid to sell), and where
        it came from."""
        if self._quote is None:
            quote = await self._ask("a price", self._registry.fetch_data(self._symbol, self._name))
            price, name = quote.last, "last price"
            if side is OrderSide.BUY and quote.ask > 0:
                price, name = quote.ask, "ask"
            elif side is OrderSide.SELL and quote.bid > 0:
                price, name = quote.bid, "bid"
            if not price > 0:
                raise FactUnavailable(f"plugin {self._name!r} has no price for "
                                      f"{self._symbol}")
            self._quote = (price, f"{name} from plugin {self._name!r}")
        return self._quote

    async def balance(self) -> AccountBalance:
        if self._balance is None:
            self._balance = await self._ask("its balance", self._registry.fetch_balance(self._name))
        return self._balance

    async def position(self) -> float:
        """The broker's net position in the symbol (positive long)."""
        if self._position is None:
            self._position = await self._ask(
                f"its position in {self._symbol}",
                self._registry.fetch_position(self._symbol, self._name),
            )
        return self._position

    async def symbol_specs(self) -> SymbolSpecs:
        """How the broker quotes the symbol: digits, point and pip."""
        if self._specs is None:
            self._specs = await self._ask(
                f"the digits and point of {self._symbol}",
                self._registry.fetch_symbol_specs(self._symbol, self._name),
            )
        return self._specs

    async def position_after_queued(self) -> tuple[float, float]:
        """The position, and what it will be once the orders already queued for this plugin and
        symbol are done (closes are assumed not to fill, which errs on the safe side)."""
        now = await self.position()
        expected = now
        for order in self._queued:
            expected = position_after(expected, order, assume_closes=False)
        return now, expected

    async def _ask(self, what: str, call: Awaitable[T]) -> T:
        name = self._name
        try:
            return await asyncio.wait_for(call, self._timeout)
        except NotSupported as exc:
            said, why = f"plugin {name!r} cannot report {what}", str(exc)
            if why and not why.startswith(f"plugin {name!r} cannot "):
                said = f"{said}: {why}"  # the plugin's own reason (a symbol it has no specs of)
            raise FactNotReported(said) from None
        except TimeoutError:
            raise FactUnavailable(
                f"plugin {name!r} did not report {what} within {self._timeout:g} s"
            ) from None
        except Exception as exc:  # noqa: BLE001 - any failure means the fact is unknown
            raise FactUnavailable(f"plugin {name!r} could not report {what}: {exc}") from exc


def position_after(position: float, order: Order, *, assume_closes: bool = True) -> float:
    """The net position once `order` has filled completely."""
    if order.action is OrderAction.TARGET and order.target_position is not None:
        return order.target_position
    sign = 1.0 if order.side is OrderSide.BUY else -1.0
    if order.action is OrderAction.OPEN and order.quantity is not None:
        return position + sign * order.quantity
    if order.action is OrderAction.REVERSE:
        return sign * (order.quantity if order.quantity is not None else abs(position))
    if order.action is OrderAction.CLOSE and assume_closes:
        if order.quantity is None:
            return 0.0
        reduced = max(abs(position) - order.quantity, 0.0)
        return reduced if position > 0 else -reduced
    return position
