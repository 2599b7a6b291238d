"""Paper trading: a broker that lives in memory.

Market orders fill at once at the reference price (the signal's price when it carries one,
else the last price seen for the symbol) moved 0.01% against the side. Limit and stop orders
fill at once when marketable and otherwise rest until cancelled; prices do not move on their own.
Positions are netted per symbol, so close and reverse act on what earlier orders opened, and
`fetch_position` reports them; `fetch_balance` reports a fixed, configured equity, and
`fetch_symbol_specs` the digits configured per symbol (`symbol_specs`). A position may hold a
protective stop (`move_position_stop`), which closes it when the paper price crosses it
(`set_price`). Nothing survives a restart.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass

from plugins.base import ExecutionPlugin, PluginCapabilities
from plugins.errors import NotStarted, NotSupported, OrderRejected
from plugins.mock_config import DEFAULT_PRICE, MockConfig, starting_price
from plugins.orders import (
    AccountBalance,
    ExecutionResult,
    ExecutionStatus,
    MarketData,
    Order,
    OrderAction,
    OrderSide,
    OrderType,
    SymbolSpecs,
    pip_size,
)
from plugins.paper_book import REMEMBERED, Holdings, PaperBook, PriceFile, StateFile

__all__ = ["MockConfig", "MockPlugin"]


def _paper_uuid() -> uuid.UUID:
    """A paper order's id: a version 4 UUID from Python's own generator (reseeded in a forked
    child), not `uuid4`'s system call per id, which cost about 16 us in a busy server. Paper
    order ids need to be unique, not unguessable."""
    return uuid.UUID(int=random.getrandbits(128), version=4)  # noqa: S311 - not a secret


@dataclass
class _Resting:
    order: Order
    order_id: str


class MockPlugin(ExecutionPlugin[MockConfig]):
    config_model = MockConfig
    capabilities = PluginCapabilities(
        native_stop_loss_take_profit=True,
        client_order_ids=True,
        lookup_by_client_order_id=True,
        unsent_orders_not_found=True,
        balance=True,
        positions=True,
        symbol_specs=True,
        position_stop=True,
    )

    def __init__(self, name: str = "mock") -> None:
        super().__init__(name)
        self._config = MockConfig()
        self._prices: dict[str, float] = {}
        self._ticks: dict[str, float] = {}
        self._positions: dict[str, float] = {}
        self._resting: dict[str, list[_Resting]] = {}
        self._stops: dict[str, tuple[OrderSide, float]] = {}
        self.stop_fills: deque[ExecutionResult] = deque(maxlen=REMEMBERED)
        """The closes the positions' stops made, oldest first (the newest `REMEMBERED`, as
        the state file keeps them: a paper account that runs for months stays its size)."""
        self.received: deque[str] = deque(maxlen=REMEMBERED)
        """The client order id of every order received, repeats included (the newest
        `REMEMBERED`)."""
        self._price_file: PriceFile | None = None
        self._state: StateFile | None = None
        self._by_client_id: OrderedDict[str, ExecutionResult] = OrderedDict()
        self._lock = asyncio.Lock()
        self._open = False

    async def init(self, config: MockConfig) -> None:
        self._config = config
        self._prices = {s.upper(): p for s, p in self._config.prices.items()}
        self._ticks = {s.upper(): t for s, t in self._config.ticks.items()}
        if config.state_file is not None:
            self._state = StateFile(config.state_file)
            self._restore(await asyncio.to_thread(self._state.read))
        if config.prices_file is not None:
            self._price_file = PriceFile(config.prices_file)
        self._open = True

    def _restore(self, book: PaperBook) -> None:
        self._positions, self._stops = dict(book.positions), dict(book.stops)
        self._prices.update(book.prices)
        self._by_client_id = OrderedDict(book.orders)
        self.received = deque(book.received, maxlen=REMEMBERED)
        self.stop_fills = deque(book.stop_fills, maxlen=REMEMBERED)

    async def _keep(self) -> None:
        """Write what changed to the state file, when there is one (`StateFile`): one line,
        or the whole book when it is due."""
        state = self._state
        if state is None:
            return
        now = Holdings(dict(self._positions), dict(self._stops), dict(self._prices))
        change = state.change(now)  # on the loop: what is added meanwhile goes into the next
        if state.due:  # the whole book, which holds the change too
            book = PaperBook(positions=now.positions, stops=now.stops, prices=now.prices,
                             orders=dict(self._by_client_id), received=list(self.received),
                             stop_fills=list(self.stop_fills))
            await asyncio.to_thread(state.rewrite, book)
        elif change is not None:
            await asyncio.to_thread(state.append, change, now)

    async def _follow_prices(self) -> None:
        """Take the prices file's changes (firing the stops they cross)."""
        if self._price_file is not None and (changes := self._price_file.changes()):
            for symbol, price in changes.items():
                self.set_price(symbol, price)
            await self._keep()

    def position(self, symbol: str) -> float:
        """The net paper position: positive long, negative short."""
        return self._positions.get(symbol, 0.0)

    def stop(self, symbol: str) -> float | None:
        """The price of the protective stop the position in `symbol` holds, if any."""
        held = self._stops.get(symbol)
        return None if held is None else held[1]

    def set_price(self, symbol: str, price: float) -> None:
        """Move the paper price of `symbol`; a position's stop that it crosses closes the
        position at once (at the new price, moved by the slippage against the close)."""
        self._prices[symbol.upper()] = price
        for held_symbol, (side, stop) in list(self._stops.items()):
            if held_symbol.upper() != symbol.upper():
                continue
            if price <= stop if side is OrderSide.BUY else price >= stop:
                closing = side.opposite
                quantity = abs(self.position(held_symbol))
                fill = self._fill(Order(symbol=held_symbol, side=closing, quantity=quantity),
                                  closing, quantity, self._market_price(held_symbol, closing),
                                  f"MOCK-STOP-{_paper_uuid()}")
                self.stop_fills.append(fill)
                if self._state is not None:
                    self._state.added.stop_fills.append(fill)

    async def move_position_stop(self, symbol: str, side: OrderSide, stop_price: float) -> None:
        self._check_started()
        async with self._lock:
            held, long = self.position(symbol), side is OrderSide.BUY
            which = "long" if long else "short"
            if held == 0 or (held > 0) != long:
                raise OrderRejected(f"no open {which} position in {symbol} to hold a stop")
            last = self.price(symbol)
            if stop_price >= last if long else stop_price <= last:
                where = "below" if long else "above"
                raise OrderRejected(f"the stop {stop_price:g} of a {which} position must be "
                                    f"{where} the price {last:g}")
            self._stops[symbol] = (side, stop_price)
            await self._keep()

    def known_price(self, symbol: str) -> float | None:
        """The configured, built-in or last traded price; None for a symbol the account has
        never heard of."""
        return self._prices.get(symbol.upper()) or starting_price(symbol)

    def price(self, symbol: str) -> float:
        """The price paper orders fill at: `DEFAULT_PRICE` for a symbol with no known price."""
        return self.known_price(symbol) or DEFAULT_PRICE

    async def fetch_symbol_specs(self, symbol: str) -> SymbolSpecs:
        self._check_started()
        folded = {name.upper(): specs for name, specs in self._config.symbol_specs.items()}
        specs = folded.get(symbol.upper())
        if specs is None:
            raise NotSupported(f"no digits configured for {symbol}: add "
                               f"plugins.{self.name}.symbol_specs.{symbol} = {{digits = ...}}")
        point = float(f"{10.0 ** -specs.digits:.12g}")
        return SymbolSpecs(symbol=symbol, digits=specs.digits, point=point,
                           pip=pip_size(point, specs.digits), tick_size=specs.tick_size,
                           contract_size=specs.contract_size, tick_value=specs.tick_value,
                           quantity_in_base=specs.quantity_in_base)

    def _check_started(self) -> None:
        if not self._open:
            raise NotStarted(self.name)

    async def execute_order(self, order: Order) -> ExecutionResult:
        self._check_started()
        if self._config.delay_ms:
            await asyncio.sleep(self._config.delay_ms / 1000)
        async with self._lock:
            await self._follow_prices()
            if order.client_order_id:
                self.received.append(order.client_order_id)
                if self._state is not None:
                    self._state.added.received.append(order.client_order_id)
            try:
                seen = self._by_client_id.get(order.client_order_id or "")
                if seen is not None:
                    return seen
                result = self._execute(order)
                if order.client_order_id:
                    self._by_client_id[order.client_order_id] = result
                    if self._state is not None:
                        self._state.added.orders[order.client_order_id] = result
                    if len(self._by_client_id) > REMEMBERED:
                        self._by_client_id.popitem(last=False)
                return result
            finally:
                await self._keep()

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        self._check_started()
        return self._by_client_id.get(client_order_id)

    def _execute(self, order: Order) -> ExecutionResult:
        if order.action is OrderAction.CANCEL:
            return self._cancel(order)
        if order.action is OrderAction.CLOSE:
            return self._close(order)
        if order.action is OrderAction.REVERSE:
            return self._reverse(order)
        return self._open_order(order)

    def _open_order(self, order: Order) -> ExecutionResult:
        assert order.side is not None and order.quantity is not None  # noqa: S101 - Order checks
        if order.order_type is OrderType.MARKET and order.price is not None:
            self._prices[order.symbol.upper()] = order.price
        fill_price = self._marketable_price(order)
        order_id = f"MOCK-{_paper_uuid()}"
        if fill_price is None:
            self._resting.setdefault(order.symbol, []).append(_Resting(order, order_id))
            return self._result(ExecutionStatus.PLACED, order, order_id, 0.0, None)
        return self._fill(order, order.side, order.quantity, fill_price, order_id)

    def _marketable_price(self, order: Order) -> float | None:
        """The fill price if the order executes now, else None (it rests)."""
        last = self.price(order.symbol)
        buying = order.side is OrderSide.BUY
        if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
            assert order.stop_price is not None  # noqa: S101 - Order checks
            triggered = last >= order.stop_price if buying else last <= order.stop_price
            if not triggered:
                return None
        if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            assert order.price is not None  # noqa: S101 - Order checks
            marketable = last <= order.price if buying else last >= order.price
            return last if marketable else None
        slip = self._config.slippage
        return last * (1 + slip) if buying else last * (1 - slip)

    def _fill(
        self, order: Order, side: OrderSide, quantity: float, price: float, order_id: str
    ) -> ExecutionResult:
        signed = quantity if side is OrderSide.BUY else -quantity
        held = self._positions.get(order.symbol, 0.0)
        net = held + signed
        if abs(net) < 1e-12:
            self._positions.pop(order.symbol, None)
        else:
            self._positions[order.symbol] = net
        if abs(net) < 1e-12 or net * held < 0:  # flat or reversed: the stop has no position
            self._stops.pop(order.symbol, None)
        return self._result(ExecutionStatus.FILLED, order, order_id, quantity, price)

    def _close(self, order: Order) -> ExecutionResult:
        held = self.position(order.symbol)
        closing_side = OrderSide.SELL if held > 0 else OrderSide.BUY
        if held == 0 or (order.side is not None and order.side is not closing_side):
            which = {None: "", OrderSide.SELL: "long ", OrderSide.BUY: "short "}[order.side]
            raise OrderRejected(f"no open {which}position in {order.symbol} to close")
        quantity = min(abs(held), order.quantity or abs(held))
        price = self._market_price(order.symbol, closing_side)
        return self._fill(order, closing_side, quantity, price, f"MOCK-{_paper_uuid()}")

    def _reverse(self, order: Order) -> ExecutionResult:
        assert order.side is not None  # noqa: S101 - Order checks
        held = self.position(order.symbol)
        wanted_sign = 1 if order.side is OrderSide.BUY else -1
        if held * wanted_sign > 0:
            raise OrderRejected(
                f"cannot reverse to {order.side} {order.symbol}: the position is already {held:g}"
            )
        quantity = order.quantity or abs(held)
        if quantity == 0:
            raise OrderRejected(
                f"no position in {order.symbol} to reverse and no quantity to open"
            )
        price = self._market_price(order.symbol, order.side)
        return self._fill(order, order.side, abs(held) + quantity, price, f"MOCK-{_paper_uuid()}")

    def _cancel(self, order: Order) -> ExecutionResult:
        resting = self._resting.pop(order.symbol, [])
        if order.side is not None:
            keep = [r for r in resting if r.order.side is not order.side]
            if keep:
                self._resting[order.symbol] = keep
            resting = [r for r in resting if r.order.side is order.side]
        if not resting:
            raise OrderRejected(f"no open orders on {order.symbol} to cancel")
        ids = ",".join(r.order_id for r in resting)
        return self._result(ExecutionStatus.CANCELLED, order, ids, 0.0, None)

    def _market_price(self, symbol: str, side: OrderSide) -> float:
        last, slip = self.price(symbol), self._config.slippage
        return last * (1 + slip) if side is OrderSide.BUY else last * (1 - slip)

    def _result(
        self,
        status: ExecutionStatus,
        order: Order,
        order_id: str,
        filled: float,
        price: float | None,
    ) -> ExecutionResult:
        fee = None if price is None else filled * price * self._config.fee_rate
        return ExecutionResult(
            success=True,
            status=status,
            order_id=order_id,
            client_order_id=order.client_order_id,
            filled_quantity=filled,
            average_price=price,
            fee=fee,
            price_tick=self._ticks.get(order.symbol.upper()),
        )

    async def fetch_data(self, symbol: str) -> MarketData:
        """A quote for a symbol with a known price. For any other the paper account does not
        pretend: a made-up price would refuse a real stock's limit order as far from a market
        that does not exist, and size orders from it."""
        self._check_started()
        async with self._lock:
            await self._follow_prices()
        last = self.known_price(symbol)
        if last is None:
            raise NotSupported(f"the paper account has no price for {symbol}: give one in "
                               f"plugins.{self.name}.prices")
        half_spread = last * self._config.slippage
        return MarketData(symbol=symbol, bid=last - half_spread, ask=last + half_spread, last=last)

    async def fetch_balance(self) -> AccountBalance:
        self._check_started()
        return AccountBalance(currency=self._config.currency, equity=self._config.equity)

    async def fetch_position(self, symbol: str) -> float:
        self._check_started()
        return self.position(symbol)

    async def health_check(self) -> bool:
        return self._open

    async def close(self) -> None:
        self._open = False
