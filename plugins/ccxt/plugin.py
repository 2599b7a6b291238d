"""The ccxt execution plugin: crypto exchanges through `ccxt.async_support`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

import ccxt.async_support as ccxt

from plugins.base import MOVE_POSITION_STOP, ExecutionPlugin, PluginCapabilities, PluginDescription
from plugins.ccxt.actions import Actions
from plugins.ccxt.config import CcxtConfig, Credentials
from plugins.ccxt.errors import exchange_redactor, redacting_logger
from plugins.ccxt.exchange import (
    apply_credentials,
    create_exchange,
    require_named_credentials,
    start_exchange,
)
from plugins.ccxt.guarantees import market_buy_needs_price
from plugins.ccxt.orphans import ProtectionSweeper
from plugins.ccxt.position_stops import move_stop, without_plan_stop
from plugins.ccxt.recovery import protect_found_entry
from plugins.ccxt.results import quote_of
from plugins.ccxt.sizing import contract_factor
from plugins.ccxt.symbols import (
    Market,
    find_exact,
    in_order_units,
    market_specs,
    resolve_market,
)
from plugins.ccxt.trader import ExchangeTrader
from plugins.errors import (
    ExecutionError,
    NotStarted,
    NotSupported,
    PluginConfigError,
    UnknownSymbol,
)
from plugins.orders import (
    AccountBalance,
    ExecutionResult,
    MarketData,
    Order,
    OrderAction,
    OrderSide,
    SymbolSpecs,
)

MARKETS_MAX_AGE = 3600.0
"""Seconds before the markets are loaded again: exchanges change steps, ticks and listings."""
_PRECISION = re.compile(r"LOT_SIZE|PRICE_FILTER|precision|tick|lot size|step", re.IGNORECASE)


class CcxtPlugin(ExecutionPlugin[CcxtConfig]):
    """Places orders on one exchange account through ccxt.

    Every order carries a client order id derived from the signal id. `lookup_order` finds it
    again where the exchange's row of the guarantees table says a lookup is reliable; elsewhere
    the instance declares no lookup, so an unknown outcome goes to a person instead of a resend.
    Stop-loss and take-profit are attached to the entry where the exchange can
    (`capabilities.native_stop_loss_take_profit` says so once started), else placed after it.
    Positions are declared on spot accounts (the base currency held) and on exchanges that
    report contract positions.

    A position's stop (`position_stop`, managed exits) is held at the exchange on contract
    accounts whose exchange takes reduce-only stop triggers (`position_stops`); on spot it stays
    with tradehook: no spot order is reduce-only, so a stop at the exchange could sell coins
    that are not the position's (other holdings, another order's), and would stay after the
    position was sold.
    """

    config_model = CcxtConfig
    capabilities = PluginCapabilities(
        native_stop_loss_take_profit=False,
        client_order_ids=True,
        lookup_by_client_order_id=True,
        partial_fills=True,
        balance=True,
        positions=True,
        symbol_specs=True,
    )

    def __init__(self, name: str = "ccxt") -> None:
        super().__init__(name)
        self._config: CcxtConfig | None = None
        self._exchange: Any = None
        self._actions: Actions | None = None
        self._markets_loaded = 0.0
        self._sweeper: ProtectionSweeper | None = None

    async def init(self, config: CcxtConfig) -> None:
        self._config = config
        exchange = create_exchange(config)
        require_named_credentials(exchange, config)
        credentials = Credentials.from_environment(config)
        apply_credentials(exchange, credentials)
        redact = exchange_redactor(credentials.values())
        log = exchange.logger = redacting_logger(f"tradehook.ccxt.{self.name}", redact)
        await start_exchange(exchange, config, redact)
        try:
            self._check_symbol_map(exchange.markets)
        except PluginConfigError:
            await exchange.close()
            raise
        self._exchange = exchange
        # What the exchange can do is known only now; this instance declares it, claiming
        # only what the exchange's row of the guarantees table says.
        trader = ExchangeTrader(exchange, config, redact)
        row = trader.guarantees
        native = exchange.has.get("createOrderWithTakeProfitAndStopLoss") is True
        positions = config.market_type == "spot" or bool(exchange.has.get("fetchPositions"))
        self.capabilities = self.capabilities.model_copy(
            update={
                "native_stop_loss_take_profit": native
                and config.market_type in row.attached_stop_loss_take_profit,
                "positions": positions,
                "client_order_ids": row.keeps_client_id,
                "lookup_by_client_order_id": row.keeps_client_id and row.lookup_by_client_id,
                "position_stop": config.market_type in row.reduce_only_stops,
            }
        )
        self._actions = Actions(trader, native_brackets=native)
        self._markets_loaded = time.monotonic()
        swaps = config.market_type == "swap"
        self._sweeper = ProtectionSweeper(trader, config.protection_check_interval * swaps, log)
        if swaps:
            await self._sweeper.sweep_at_start()
        self._sweeper.start()

    @property
    def exchange(self) -> Any:
        """The ccxt exchange object (for tests and diagnostics)."""
        return self._exchange

    def describe(self) -> PluginDescription:
        """What this instance's exchange guarantees, for `GET /api/plugins` and `tradehook
        check`: its row of the guarantees table, what ccxt says of market buys, and the
        weaknesses a user should know of."""
        trader = self._started_actions().trader
        row = trader.guarantees
        return PluginDescription(details={
            "exchange": row.exchange,
            "guarantees": row.model_dump(mode="json"),
            "market_buy_needs_price": market_buy_needs_price(self._exchange),
            "not_found_is_proof_after_seconds": trader.proof_window(),
        }, warnings=row.weaknesses())

    def market_for(self, symbol: str) -> Market | None:
        config = self._started_config()
        return resolve_market(symbol, self._exchange.markets, config.market_type, config.symbols)

    async def execute_order(self, order: Order) -> ExecutionResult:
        actions = self._started_actions()
        await self._refresh_markets_when_old()
        market = self.market_for(order.symbol)
        if market is None:
            asked = order.describe()
            raise UnknownSymbol(f"{asked}: {self._unknown_symbol(order.symbol)}")
        if self.capabilities.position_stop:
            order = without_plan_stop(order)
        try:
            return await self._act(actions, order, market)
        except ExecutionError as exc:
            await self._recover_from(exc)
            raise

    async def _act(self, actions: Actions, order: Order, market: Market) -> ExecutionResult:
        if order.action is OrderAction.CLOSE:
            return await actions.close(order, market)
        if order.action is OrderAction.REVERSE:
            return await actions.reverse(order, market)
        if order.action is OrderAction.CANCEL:
            return await actions.cancel(order, market)
        return await actions.open(order, market)

    async def _refresh_markets_when_old(self) -> None:
        """Reload the markets (precision, minimums, listings) once they are MARKETS_MAX_AGE old."""
        if time.monotonic() - self._markets_loaded < MARKETS_MAX_AGE:
            return
        await self._reload_markets()

    async def _reload_markets(self) -> None:
        trader = self._started_actions().trader
        with trader.translating(f"reload the markets of {trader.exchange_id}", sent=False):
            await self._exchange.load_markets(reload=True)
        self._markets_loaded = time.monotonic()

    async def _recover_from(self, error: ExecutionError) -> None:
        """After a refused timestamp, take the exchange's clock again; after a precision
        refusal, reload the markets: the retry then goes out right. Best effort."""
        cause = error.__cause__
        try:
            if isinstance(cause, ccxt.InvalidNonce):
                await self._exchange.load_time_difference()
            elif isinstance(cause, ccxt.InvalidOrder) and _PRECISION.search(str(cause)):
                await self._reload_markets()
        except Exception:  # noqa: BLE001 - the original error is what the caller needs
            return

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        """Find the order placed for this signal id. The exchange may need the order's symbol:
        it is remembered for orders this process sent, else pass the alert's `symbol`.

        `order` is the signal's order as the journal holds it: when the entry is found filled
        and its stop-loss or take-profit is not at the exchange, they are placed now (after a
        restart as well as after a lost answer). Without it, only the brackets this process
        was waiting to place are."""
        actions = self._started_actions()
        trader = actions.trader
        exchange_id = trader.client_id(client_order_id)
        assert exchange_id is not None  # noqa: S101 - a str in gives a str out
        market = self.market_for(symbol) if symbol is not None else None
        unified = market["symbol"] if market else trader.symbol_sent_with(exchange_id)
        found = await trader.find(exchange_id, unified)
        if found is None:
            return None
        market = market or self._exchange.markets.get(found.symbol or unified or "")
        waiting = actions.awaiting_protection.pop(exchange_id, None)
        if waiting is not None and (found.filled or 0) > 0:  # this process never placed it
            return await actions.protect_filled(*waiting, found)
        if order is not None and self.capabilities.position_stop:
            order = without_plan_stop(order)
        opening = order is not None and order.action in (OrderAction.OPEN, OrderAction.REVERSE)
        if order is not None and opening and market is not None:
            return await protect_found_entry(actions, order, market, found)
        unit = self._started_config().quantity_unit
        factor = contract_factor(market, unit) if market is not None else 1.0
        return found.to_result(market, contract_size=factor,
                               precision_mode=int(self._exchange.precisionMode))

    async def fetch_data(self, symbol: str) -> MarketData:
        trader = self._started_actions().trader
        market = self.market_for(symbol)
        if market is None:
            raise UnknownSymbol(f"quote {symbol}: {self._unknown_symbol(symbol)}")
        with trader.translating(f"quote {market['symbol']} on {trader.exchange_id}", sent=False):
            ticker = await self._exchange.fetch_ticker(market["symbol"])
        return quote_of(market["symbol"], ticker)

    async def fetch_symbol_specs(self, symbol: str) -> SymbolSpecs:
        """From the market's price precision, as loaded with the markets, in the units orders
        are given in (`symbols.in_order_units`)."""
        await self._refresh_markets_when_old()
        market = self.market_for(symbol)
        if market is None:
            raise UnknownSymbol(f"symbol specs {symbol}: {self._unknown_symbol(symbol)}")
        specs = market_specs(symbol, market, int(self._exchange.precisionMode))
        return in_order_units(specs, market, self._started_config().quantity_unit)

    async def fetch_balance(self) -> AccountBalance:
        currency = self._started_config().balance_currency
        trader = self._started_actions().trader
        free, total = await trader.balance(currency, f"balance on {trader.exchange_id}")
        return AccountBalance(currency=currency, equity=total, free=free)

    async def fetch_position(self, symbol: str) -> float:
        """Contracts: the net position (in base currency unless `quantity_unit` is contracts).
        Spot: the base currency held, free or in open orders."""
        trader = self._started_actions().trader
        market = self.market_for(symbol)
        if market is None:
            raise UnknownSymbol(f"position {symbol}: {self._unknown_symbol(symbol)}")
        what = f"position {market['symbol']} on {trader.exchange_id}"
        if not market.get("contract"):
            return (await trader.balance(str(market["base"]), what))[1]
        positions = await trader.positions(market, what)
        net = sum(p.contracts if p.side is OrderSide.BUY else -p.contracts for p in positions)
        return net * contract_factor(market, self._started_config().quantity_unit)

    async def move_position_stop(self, symbol: str, side: OrderSide, stop_price: float) -> None:
        """One reduce-only stop trigger for the whole position, placed before the previous one
        is cancelled (see `position_stops`). Declared on contract accounts only."""
        trader = self._started_actions().trader
        market = self.market_for(symbol)
        if market is None:
            raise UnknownSymbol(f"position stop {symbol}: {self._unknown_symbol(symbol)}")
        if not market.get("contract") or not self.capabilities.position_stop:
            raise NotSupported.ability(self.name, MOVE_POSITION_STOP)
        note = await move_stop(trader, market, side, stop_price)
        if note is not None:
            self._exchange.logger.warning("%s", note)

    async def health_check(self) -> bool:
        if self._actions is None or self._config is None:
            return False
        ask = self._exchange.fetch_time if self._exchange.has.get("fetchTime") else None
        ask = ask or self._exchange.fetch_status
        try:
            answer = await asyncio.wait_for(ask(), self._config.health_timeout)
        except Exception:  # noqa: BLE001 - any failure to answer means unhealthy
            return False
        if isinstance(answer, dict):
            return answer.get("status") in (None, "ok")
        return answer is not None

    async def close(self) -> None:
        self._actions = None
        if self._sweeper is not None:
            await self._sweeper.stop()
        if self._exchange is not None:
            await self._exchange.close()

    def _check_symbol_map(self, markets: Mapping[str, Market]) -> None:
        config = self._started_config()
        for alias, target in config.symbols.items():
            if find_exact(target, markets) is None:
                raise PluginConfigError(
                    f"symbols.{alias}: {target!r} is not a market on {config.exchange}"
                )

    def _unknown_symbol(self, symbol: str) -> str:
        config = self._started_config()
        return f"unknown symbol {symbol!r} on {config.exchange} ({config.market_type} markets)"

    def _started_config(self) -> CcxtConfig:
        if self._config is None:
            raise NotStarted(self.name)
        return self._config

    def _started_sweeper(self) -> ProtectionSweeper:
        if self._sweeper is None:
            raise NotStarted(self.name)
        return self._sweeper

    def _started_actions(self) -> Actions:
        if self._actions is None:
            raise NotStarted(self.name)
        return self._actions
