"""The `mt5` execution plugin: MetaTrader 5 through its Python API, in process or over rpyc."""

from __future__ import annotations

from plugins.base import ExecutionPlugin, PluginCapabilities
from plugins.errors import NotStarted, TemporaryError
from plugins.mt5 import claims
from plugins.mt5.config import MT5Config
from plugins.mt5.records import AccountState
from plugins.mt5.session import MT5Session
from plugins.mt5.stops import move_stop
from plugins.mt5.trading import MT5Trader
from plugins.orders import (
    AccountBalance,
    ExecutionResult,
    MarketData,
    Order,
    OrderSide,
    SymbolSpecs,
    pip_size,
)
from plugins.worker_thread import WorkerThread


class MT5Plugin(ExecutionPlugin[MT5Config]):
    """Orders on a MetaTrader 5 account.

    The terminal API blocks and is single-threaded, so every call runs on one worker thread,
    one at a time, in the order the calls were made. One plugin per terminal connection: a
    second plugin on the same bridge, or a second native one, is refused at start.
    """

    config_model = MT5Config
    capabilities = PluginCapabilities(
        native_stop_loss_take_profit=True,
        client_order_ids=True,
        lookup_by_client_order_id=True,
        partial_fills=True,
        balance=True,
        positions=True,
        symbol_specs=True,
        position_stop=True,
    )

    def __init__(self, name: str = "mt5") -> None:
        super().__init__(name)
        self._worker = WorkerThread(name, f"mt5-{name}")
        self._session: MT5Session | None = None
        self._trader: MT5Trader | None = None
        self._claimed: str | None = None

    async def init(self, config: MT5Config) -> None:
        claims.claim(config.bridge_key(), self, self.name)
        self._claimed = config.bridge_key()
        session = MT5Session(config)
        self._worker.start()
        try:
            await self._worker.run(session.connect)
        except BaseException:
            await self._worker.close()
            self._release()
            raise
        self._session, self._trader = session, MT5Trader(session)

    def _release(self) -> None:
        if self._claimed is not None:
            claims.release(self._claimed, self)
            self._claimed = None

    def _started(self) -> tuple[MT5Session, MT5Trader]:
        if self._session is None or self._trader is None:
            raise NotStarted(self.name)
        return self._session, self._trader

    async def execute_order(self, order: Order) -> ExecutionResult:
        _, trader = self._started()
        return await self._worker.run(lambda: trader.execute(order))

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        """By the tickets this process was given, else by magic and comment (see
        `MT5Trader.lookup`)."""
        _, trader = self._started()
        return await self._worker.run(lambda: trader.lookup(client_order_id, symbol))

    async def fetch_data(self, symbol: str) -> MarketData:
        session, _ = self._started()

        def quote() -> MarketData:
            spec = session.symbol(symbol, f"quote {symbol}")
            tick = session.tick(spec.name, f"quote {symbol}")
            last = tick.last or (tick.bid + tick.ask) / 2
            return MarketData(
                symbol=symbol,
                bid=tick.bid,
                ask=tick.ask,
                last=last,
                volume=float(tick.volume),
            )  # stamped now: tick.time is the broker's server time, often hours off UTC

        return await self._worker.run(quote)

    async def fetch_symbol_specs(self, symbol: str) -> SymbolSpecs:
        """From `symbol_info` (MQL5 "Symbol Properties"): `digits`, `point` (one step of the
        quotes), `trade_tick_size`, `trade_contract_size` (units per lot) and
        `trade_tick_value` (one tick's profit on one lot, in the deposit currency)."""
        session, _ = self._started()

        def specs() -> SymbolSpecs:
            spec = session.symbol(symbol, f"read the symbol specs of {symbol}")
            return SymbolSpecs(
                symbol=symbol, digits=spec.digits, point=spec.point,
                pip=pip_size(spec.point, spec.digits),
                tick_size=spec.trade_tick_size or None,
                contract_size=spec.trade_contract_size or None,
                tick_value=spec.trade_tick_value or None, quantity_in_base=False,
            )

        return await self._worker.run(specs)

    async def fetch_balance(self) -> AccountBalance:
        session, _ = self._started()

        def balance() -> AccountBalance:
            account = session.one(AccountState, "account_info")
            if account is None:
                raise TemporaryError(f"MetaTrader 5 has no account info ({session.last_error()})")
            return AccountBalance(
                currency=account.currency, equity=account.equity, free=account.margin_free
            )

        return await self._worker.run(balance)

    async def fetch_position(self, symbol: str) -> float:
        """Net lots: long positions less short ones (on a hedging account, both may be open)."""
        session, _ = self._started()

        def net() -> float:
            spec = session.symbol(symbol, f"read the position in {symbol}")
            long_type = session.constant("POSITION_TYPE_BUY")
            held = session.positions(spec.name)
            return round(sum(p.volume if p.type == long_type else -p.volume for p in held), 8)

        return await self._worker.run(net)

    async def move_position_stop(self, symbol: str, side: OrderSide, stop_price: float) -> None:
        """The stop-loss of the symbol's positions on `side`, by TRADE_ACTION_SLTP
        (`plugins.mt5.stops`)."""
        session, trader = self._started()
        await self._worker.run(lambda: move_stop(session, trader.sender, symbol, side,
                                                 stop_price))

    async def health_check(self) -> bool:
        if self._session is None or not self._worker.running:
            return False
        try:
            return await self._worker.run(self._session.healthy)
        except Exception:  # noqa: BLE001 - any failure to answer means unhealthy
            return False

    async def close(self) -> None:
        session, trader = self._session, self._trader

        def disconnect() -> None:
            if trader is not None:
                trader.sender.close()
            if session is not None:
                session.close()

        try:
            await self._worker.close(disconnect)
        finally:
            self._release()
