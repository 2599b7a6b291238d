"""What each order action does on a ccxt exchange.

open: one order of the asked type, with its stop-loss and take-profit (see `brackets`).
close: contracts are flattened by a reduce-only market order for the position's size (or the
asked part of it); on spot the free balance of the base currency is sold.
reverse: contracts flatten and open the other way in one market order; on spot only a buy can
"reverse" (there is no short to flatten), a sell is refused.
cancel: the symbol's open orders (only the buys or sells when `side` says so) are cancelled.

Every order sent carries the client order id derived from the signal id.
"""

from __future__ import annotations

from typing import Any

from plugins.ccxt.brackets import (
    BracketMode,
    bracket_mode,
    has_bracket,
    native_params,
    protect,
    refuse_unprotectable,
    remove_protection,
)
from plugins.ccxt.guarantees import market_buy_needs_price
from plugins.ccxt.orphans import cancel_orphans
from plugins.ccxt.results import CcxtOrder
from plugins.ccxt.sizing import (
    amount_at_precision,
    check_minimums,
    check_quantity_unit,
    contract_factor,
    exchange_amount,
    needs_reference_price,
    price_at_precision,
)
from plugins.ccxt.symbols import Market, market_kind
from plugins.ccxt.trader import ExchangeTrader, Ticket
from plugins.errors import OrderRejected, OutcomeUnknown
from plugins.orders import (
    ExecutionResult,
    ExecutionStatus,
    Order,
    OrderSide,
    OrderType,
    TimeInForce,
)
from plugins.orders import number_text as fmt

_LIMIT_TIME_IN_FORCE = {TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}
_MARKET_TIME_IN_FORCE = {TimeInForce.GTC, TimeInForce.IOC}
"""A market order fills what it can at once: IOC is what it does anyway, GTC changes nothing."""


class Actions:
    def __init__(self, trader: ExchangeTrader, *, native_brackets: bool) -> None:
        self.trader = trader
        self.unit = trader.config.quantity_unit
        self.native_brackets = native_brackets
        """The plugin's `native_stop_loss_take_profit`: brackets travel with the entry."""
        self.awaiting_protection: dict[str, tuple[Order, Market]] = {}
        """Entries whose outcome was unknown and whose bracket still has to be placed once a
        lookup finds them filled, by client order id."""

    async def open(self, order: Order, market: Market) -> ExecutionResult:
        assert order.side is not None and order.quantity is not None  # noqa: S101 - Order checks
        exchange = self.trader.exchange
        what = order.describe(market["symbol"], on=self.trader.exchange_id)
        check_quantity_unit(market, self.unit, what)
        mode = bracket_mode(self.native_for(market), exchange, market)
        refuse_unprotectable(order, market, mode, what)
        wanted = exchange_amount(market, self.unit, order.quantity)
        amount = amount_at_precision(exchange, market, wanted, what)
        order_type, price, params = self._shape(order, market, what)
        priced_buy = self._market_buy_needs_price(order_type, order.side, market)
        reference = order.entry_price
        if reference is None and (needs_reference_price(market) or priced_buy):
            reference = await self.trader.reference_price(market, order.side, what)
        check_minimums(market, amount, reference, self.unit, what)
        if priced_buy:
            if reference is None:
                raise OrderRejected(f"{what}: {exchange.id} needs a price for a market buy, "
                                    "and the exchange quoted none")  # fmt: skip
            price = price_at_precision(exchange, market, reference, what)
        if mode is BracketMode.NATIVE and has_bracket(order):
            params.update(native_params(exchange, market, order, what))
        stale_note = await self._cancel_orphans(market)
        ticket = Ticket(
            market["symbol"],
            order_type,
            order.side,
            amount,
            price,
            self.trader.client_id(order.client_order_id),
            params,
        )
        try:
            entry = await self.trader.create(ticket, what)
        except OutcomeUnknown:
            if ticket.client_order_id is not None and has_bracket(order):
                self.awaiting_protection[ticket.client_order_id] = (order, market)
            raise
        result = self.result_of(entry, market)
        if mode is not BracketMode.NATIVE and has_bracket(order) and result.success:
            result = await self.protect_filled(order, market, entry)
        if stale_note is None:
            return result
        note = "; ".join(n for n in (result.error, stale_note) if n)
        return result.model_copy(update={"error": note})

    async def _cancel_orphans(self, market: Market) -> str | None:
        """Before an entry on contracts: cancel the stop-loss or take-profit left by a closed
        position (see `orphans`). Nothing has been sent yet, so a temporary failure is raised
        (the entry is retried); a refusal is reported with the entry's result instead."""
        try:
            await cancel_orphans(self.trader, market)
        except OrderRejected as exc:
            return f"an old stop-loss or take-profit on {market['symbol']} may still be open: {exc}"
        return None

    async def protect_filled(
        self, order: Order, market: Market, entry: CcxtOrder
    ) -> ExecutionResult:
        """Place the separate bracket for what the entry filled; report a failure in `error`."""
        mode = bracket_mode(self.native_for(market), self.trader.exchange, market)
        result = self.result_of(entry, market)
        if mode is BracketMode.NATIVE:
            return result
        filled = entry.filled or 0.0
        if market.get("spot") and filled > 0:
            filled = await self.trader.received(entry, market)
        if filled <= 0:
            note = "the stop-loss and take-profit were not placed: the entry has not filled yet"
        else:
            what = order.describe(market["symbol"], on=self.trader.exchange_id)
            note = await protect(self.trader, market, order, filled, mode, what) or ""
        return result.model_copy(update={"error": note}) if note else result

    async def close(self, order: Order, market: Market) -> ExecutionResult:
        what = order.describe(market["symbol"], on=self.trader.exchange_id)
        if market.get("contract"):
            return await self._close_contracts(order, market, what)
        if order.side is OrderSide.BUY:
            raise OrderRejected(f"{what}: a spot account holds no short position to buy back")
        base = market["base"]
        free, total = await self.trader.balance(base, what)
        wanted = min(free, order.quantity) if order.quantity is not None else free
        locked = total - free
        held = f"{fmt(free)} {base} free" + (f", {fmt(locked)} in open orders" if locked else "")
        if wanted <= 0:
            raise OrderRejected(f"{what}: nothing to sell ({held})")
        try:
            amount = amount_at_precision(self.trader.exchange, market, wanted, what)
            reference = None
            if needs_reference_price(market):
                reference = await self.trader.reference_price(market, OrderSide.SELL, what)
            check_minimums(market, amount, reference, self.unit, what)
        except OrderRejected as exc:
            raise OrderRejected(f"{exc} ({held})") from exc
        return await self._market(order, market, OrderSide.SELL, amount, what, {})

    async def reverse(self, order: Order, market: Market) -> ExecutionResult:
        assert order.side is not None  # noqa: S101 - Order checks
        what = order.describe(market["symbol"], on=self.trader.exchange_id)
        if not market.get("contract"):
            if order.side is OrderSide.SELL:
                raise OrderRejected(
                    f"{what}: a spot account cannot go short; send close, or trade a swap market"
                )
            if order.quantity is None:
                raise OrderRejected(f"{what}: no short to flatten and no quantity to buy")
            buy = order.model_copy(update={"order_type": OrderType.MARKET})
            return await self.open(buy, market)
        check_quantity_unit(market, self.unit, what)
        factor = contract_factor(market, self.unit)
        positions = await self.trader.positions(market, what)
        held = sum(p.contracts if p.side is OrderSide.BUY else -p.contracts for p in positions)
        if held * (1 if order.side is OrderSide.BUY else -1) > 0:
            raise OrderRejected(f"{what}: the position is already {fmt(held * factor)}")
        opening = (
            exchange_amount(market, self.unit, order.quantity)
            if order.quantity is not None
            else abs(held)
        )
        if opening <= 0:
            raise OrderRejected(f"{what}: no position to reverse and no quantity to open")
        exchange = self.trader.exchange
        amount = amount_at_precision(exchange, market, abs(held) + opening, what)
        result = await self._market(order, market, order.side, amount, what, {})
        if not result.success or result.filled_quantity <= 0:
            return result
        notes = [await remove_protection(self.trader, market, what) if held else None]
        if has_bracket(order):
            filled = exchange_amount(market, self.unit, result.filled_quantity)
            size = min(opening, max(filled - abs(held), 0.0))
            notes.append(await protect(self.trader, market, order, size, BracketMode.SEPARATE,
                                       what))  # fmt: skip
        note = "; ".join(n for n in notes if n)
        return result.model_copy(update={"error": note}) if note else result

    async def cancel(self, order: Order, market: Market) -> ExecutionResult:
        what = order.describe(market["symbol"], on=self.trader.exchange_id)
        resting = await self.trader.open_orders(market, what)
        triggers = await self.trader.trigger_orders(market, what) if market.get("contract") else []
        if order.side is not None:
            triggers = [o for o in triggers if o.side == order.side.value]
            resting = [o for o in resting if o.side == order.side.value]
        if not resting and not triggers:
            which = f"{order.side.value} " if order.side is not None else ""
            raise OrderRejected(f"{what}: there are no open {which}orders to cancel")
        if resting:
            await self.trader.cancel(resting, market, what, every_order=order.side is None)
        await self.trader.cancel_triggers(triggers, market, what)
        return ExecutionResult(
            success=True,
            status=ExecutionStatus.CANCELLED,
            order_id=",".join(o.id for o in resting + triggers if o.id is not None),
            client_order_id=order.client_order_id,
        )

    async def _close_contracts(self, order: Order, market: Market, what: str) -> ExecutionResult:
        check_quantity_unit(market, self.unit, what)
        positions = await self.trader.positions(market, what)
        if order.side is not None:
            positions = [p for p in positions if p.side is order.side.opposite]
        if not positions:
            which = {None: "", OrderSide.SELL: "long ", OrderSide.BUY: "short "}[order.side]
            raise OrderRejected(f"{what}: there is no open {which}position to close")
        if len(positions) > 1:
            raise OrderRejected(f"{what}: there is a long and a short position; say which (side)")
        position = positions[0]
        wanted = position.contracts
        if order.quantity is not None:
            wanted = min(wanted, exchange_amount(market, self.unit, order.quantity))
        amount = amount_at_precision(self.trader.exchange, market, wanted, what)
        params = {"reduceOnly": True}
        result = await self._market(order, market, position.side.opposite, amount, what, params)
        if not result.success or float(amount) < position.contracts:
            return result  # a partial close keeps its protection
        note = await remove_protection(self.trader, market, what)
        return result.model_copy(update={"error": note}) if note else result

    async def _market(
        self,
        order: Order,
        market: Market,
        side: OrderSide,
        amount: str,
        what: str,
        params: dict[str, Any],
    ) -> ExecutionResult:
        ticket = Ticket(
            market["symbol"],
            "market",
            side,
            amount,
            client_order_id=self.trader.client_id(order.client_order_id),
            params=params,
        )
        entry = await self.trader.create(ticket, what)
        return self.result_of(entry, market)

    def result_of(self, entry: CcxtOrder, market: Market) -> ExecutionResult:
        """The exchange's order as our result, in base currency, with its fee and tick."""
        return entry.to_result(market, contract_size=contract_factor(market, self.unit),
                               precision_mode=int(self.trader.exchange.precisionMode))

    def native_for(self, market: Market) -> bool:
        """Brackets travel with the entry only where the exchange's row says so for this kind
        of market (kucoin spot may drop the stop-loss silently), and ccxt can send them."""
        kinds = self.trader.guarantees.attached_stop_loss_take_profit
        return self.native_brackets and market_kind(market) in kinds

    def _market_buy_needs_price(self, order_type: str, side: OrderSide, market: Market) -> bool:
        return (
            order_type == "market"
            and side is OrderSide.BUY
            and bool(market.get("spot"))
            and market_buy_needs_price(self.trader.exchange)
        )

    def _shape(
        self, order: Order, market: Market, what: str
    ) -> tuple[str, str | None, dict[str, Any]]:
        """ccxt's type, price and parameters (trigger, time in force) for our order type."""
        exchange = self.trader.exchange
        limit = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        price = None
        if limit and order.price is not None:
            price = price_at_precision(exchange, market, order.price, what)
        params: dict[str, Any] = {}
        tif = order.time_in_force
        if tif is not None:
            honoured = _LIMIT_TIME_IN_FORCE if limit else _MARKET_TIME_IN_FORCE
            if tif not in honoured:
                kind = "limit" if limit else "market"
                raise OrderRejected(
                    f"{what}: time in force {tif.value!r} is not available for {kind} orders "
                    f"on {self.trader.exchange_id} (use {', '.join(sorted(honoured))})"
                )
            if limit:
                params["timeInForce"] = tif.value.upper()
        if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
            assert order.stop_price is not None  # noqa: S101 - Order checks
            trigger = price_at_precision(exchange, market, order.stop_price, what)
            params["triggerPrice"] = float(trigger)
            if self.trader.guarantees.stop_entry_direction:
                rising = order.side is OrderSide.BUY
                params["triggerDirection"] = "ascending" if rising else "descending"
        return ("limit", price, params) if limit else ("market", None, params)
