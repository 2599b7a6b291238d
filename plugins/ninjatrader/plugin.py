"""The `ninjatrader` execution plugin: NinjaTrader 8 through its Automated Trading Interface."""

from __future__ import annotations

from plugins.base import ExecutionPlugin, PluginCapabilities
from plugins.errors import NotStarted, NotSupported
from plugins.ninjatrader.ati import Link
from plugins.ninjatrader.config import NinjaTraderConfig
from plugins.ninjatrader.trading import NinjaTraderTrader
from plugins.orders import (
    ExecutionResult,
    MarketData,
    Order,
    OrderSide,
    SymbolSpecs,
    decimals_of,
)
from plugins.worker_thread import WorkerThread


def open_link(config: NinjaTraderConfig) -> Link:
    """The configured transport; each imports only what it needs."""
    if config.transport == "dll":
        from plugins.ninjatrader.dll import DllLink

        return DllLink.open(config)
    from plugins.ninjatrader.oif import OifLink

    return OifLink.open(config)


class NinjaTraderPlugin(ExecutionPlugin[NinjaTraderConfig]):
    """Futures orders on a NinjaTrader 8 account.

    Calls into the transport block (file system, or the DLL's socket), so they run on one
    worker thread; waiting for NinjaTrader's reports happens on the event loop in between.
    Quotes (`fetch_data`) need the DLL: the file interface raises `NotSupported`. A
    position's stop is a STOPMARKET order held by NinjaTrader on either transport
    (`plugins.ninjatrader.stops`).
    """

    config_model = NinjaTraderConfig
    capabilities = PluginCapabilities(
        native_stop_loss_take_profit=False,
        client_order_ids=True,
        lookup_by_client_order_id=True,
        partial_fills=True,
        positions=True,
        symbol_specs=True,
        position_stop=True,
    )

    def __init__(self, name: str = "ninjatrader") -> None:
        super().__init__(name)
        self._worker = WorkerThread(name, f"nt-{name}")
        self._link: Link | None = None
        self._trader: NinjaTraderTrader | None = None

    async def init(self, config: NinjaTraderConfig) -> None:
        # The file interface gives no quotes (`OifLink.quote`): managed exits have no prices.
        self.capabilities = self.capabilities.model_copy(
            update={"quotes": config.transport == "dll"})
        if config.transport == "dll":
            from plugins.ninjatrader.dll import start_runtime

            start_runtime(config)  # on this (the main) thread, where pythonnet unloads it
        self._worker.start()
        try:
            self._link = await self._worker.run(lambda: open_link(config))
        except BaseException:
            await self._worker.close()
            raise
        self._trader = NinjaTraderTrader(self._link, config, self._worker.run)

    def _started(self) -> NinjaTraderTrader:
        if self._trader is None:
            raise NotStarted(self.name)
        return self._trader

    async def execute_order(self, order: Order) -> ExecutionResult:
        return await self._started().execute(order)

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        """By the order id made from the client order id; the symbol is not needed."""
        return await self._started().lookup(client_order_id)

    async def fetch_data(self, symbol: str) -> MarketData:
        trader = self._started()
        instrument = trader.instrument(symbol)
        bid, ask, last = await self._worker.run(lambda: trader.link.quote(instrument))
        return MarketData(symbol=symbol, bid=bid, ask=ask, last=last)

    async def fetch_symbol_specs(self, symbol: str) -> SymbolSpecs:
        """The configured tick size and point value of the instrument's root (`tick_sizes`,
        `point_values`); NinjaTrader's interfaces report neither. A pip is one tick."""
        trader = self._started()
        instrument = trader.instrument(symbol)
        root = instrument.split(" ", 1)[0].upper()
        tick = {k.upper(): v for k, v in trader.config.tick_sizes.items()}.get(root)
        if tick is None:
            raise NotSupported(f"no tick size known for {instrument}: add "
                               f"plugins.{self.name}.tick_sizes.{root} = ...")
        points = {k.upper(): v for k, v in trader.config.point_values.items()}.get(root)
        return SymbolSpecs(symbol=symbol, digits=decimals_of(tick), point=tick, pip=tick,
                           tick_size=tick, quantity_in_base=False,
                           tick_value=tick * points if points is not None else None)

    async def fetch_position(self, symbol: str) -> float:
        """Net contracts of the instrument that `symbol` maps to."""
        trader = self._started()
        return float(await trader.reports.position(trader.instrument(symbol)))

    async def move_position_stop(self, symbol: str, side: OrderSide, stop_price: float) -> None:
        """The STOPMARKET order that protects the position, placed or moved with CHANGE."""
        trader = self._started()
        await trader.stops.move(trader.instrument(symbol), side, stop_price)

    async def health_check(self) -> bool:
        link = self._link
        if link is None or not self._worker.running:
            return False
        try:
            return bool(await self._worker.run(link.healthy))
        except Exception:  # noqa: BLE001 - any failure to answer means unhealthy
            return False

    async def close(self) -> None:
        trader, link = self._trader, self._link
        self._trader = self._link = None
        if trader is not None:
            await trader.close()
        await self._worker.close(link.close if link is not None else None)
