"""The exits manager: adopts filled entries into exit plans and moves the plans with prices.

An entry gets its plan right after the executor records it filled (the manager listens to the
executor's attempt events), and at start for any filled entry with exits whose plan a crash
kept from being written. Every `exits_interval` seconds the manager asks each plugin for the
price of each symbol with an active plan, and advances each plan by the pure decision: its new
state and its exit orders (child signals) in one compare-and-set transaction, then hands the
orders to the executor, which runs them like any signal. Of two managers on one journal, or one
before and after a restart, only the first compare-and-set of a version wins, so no exit is
sent twice; what was stored and not yet sent is claimed from the journal as any signal is.

Where the plugin holds a position's stop (`position_stop`), every stop move is sent to it, and
at start every active plan's stop is sent again, so a position never stays without its stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from plugins.errors import ExecutionError
from plugins.orders import MarketData, Order, OrderAction
from plugins.registry import PluginRegistry
from webhook.errors import JournalError
from webhook.execute.attempts import ExecutionJob
from webhook.execute.exits.decision import ExitDecision, ExitStep, decide, initial_plan
from webhook.journal import NewSignal, SignalJournal, SignalStatus
from webhook.journal.exit_plans import ExitPlan, ExitPlanState, exit_child_id, is_exit_order
from webhook.observe.events import SignalEvent, SignalEvents

logger = logging.getLogger("tradehook.exits")
EXITS_SOURCE = "exits"
"""The source of every exit order: the manager, not an alert."""
FILLED = (SignalStatus.FILLED, SignalStatus.PARTIALLY_FILLED)
ADOPTION_WINDOW = 7 * 24 * 3600.0
"""How far back, in seconds, a start looks for filled entries left without a plan (a crash
leaves one seconds after the fill; a week covers a long outage too)."""


def exit_order(plan: ExitPlan, step: ExitStep, quantity: float, now: float) -> NewSignal:
    """The reduce-only close a take-profit level or a stop hit sends, as a queued signal."""
    kind = f"tp{step.level}" if step.kind == "take_profit" else "stop"
    signal_id = exit_child_id(plan.signal_id, kind)
    order = Order(symbol=plan.symbol, side=plan.side.opposite, action=OrderAction.CLOSE,
                  quantity=quantity, client_order_id=signal_id, comment=step.describe())
    return NewSignal(id=signal_id, received_at=now, source=EXITS_SOURCE, raw_body=b"",
                     order=order, plugin=plan.plugin, status=SignalStatus.QUEUED,
                     reason=f"exit of {plan.signal_id}: {step.describe()}")


class ExitManager:
    def __init__(
        self,
        journal: SignalJournal,
        registry: PluginRegistry,
        submit: Callable[[ExecutionJob], None],
        *,
        interval: float,
        events: SignalEvents | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._journal = journal
        self._registry = registry
        self._submit = submit
        self._interval = interval
        self._events = events
        self._clock = clock
        self._filled: list[str] = []
        """Entries the executor recorded filled since the last look."""
        self._wakeup = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    def observe(self, event: SignalEvent) -> None:
        """An events listener: a filled entry with exits is adopted, a filled exit order may
        be the fill a break-even waits for; any other signal costs nothing here."""
        if event.kind == "attempt" and event.final and event.status in FILLED \
                and event.signal_id is not None:
            if event.exits:
                self._filled.append(event.signal_id)
                self._wakeup.set()
            elif is_exit_order(event.signal_id):
                self._wakeup.set()

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._run_forever(), name="exits-manager")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None

    async def _run_forever(self) -> None:
        started = False
        while True:
            self._wakeup.clear()
            try:
                if not started:
                    await self.resume()
                    started = True
                await self.adopt_filled()
                await self.tick()
            except JournalError as exc:
                logger.warning("exits: the journal cannot be reached: %s", exc)
            except NotImplementedError as exc:
                logger.warning("exits: managed exits are off: %s", exc)
                return
            except Exception:
                logger.exception("exits: unexpected failure")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._interval)

    async def resume(self) -> None:
        """At start: adopt filled entries that have no plan, send every active plan's stop
        again to a plugin that holds it."""
        since = self._clock() - ADOPTION_WINDOW
        for signal_id in await self._journal.entries_without_plan(since):
            await self.adopt(signal_id)
        for plan in await self._journal.active_exit_plans():
            if plan.native_stop and plan.stop is not None:
                await self._send_stop(plan)

    async def adopt_filled(self) -> None:
        """Adopt the entries filled since the last look; one the journal fails on stays first,
        for the next look."""
        for _ in range(len(self._filled)):
            await self.adopt(self._filled[0])
            self._filled.pop(0)

    async def adopt(self, signal_id: str) -> ExitPlan | None:
        """Create the plan of a filled entry that asked for exits; None for any other signal
        (or when it has a plan already)."""
        record = await self._journal.get(signal_id)
        if (record is None or record.order is None or record.order.exits is None
                or record.plugin is None or record.result is None or record.status not in FILLED):
            return None
        entry_price = record.result.average_price
        if entry_price is None:
            quote = await self._quote(record.plugin, record.order.symbol)
            if quote is None:
                self._filled.append(signal_id)  # asked again on the next tick
                return None
            entry_price = quote.last
        native = (record.plugin in self._registry
                  and self._registry.capabilities(record.plugin).position_stop
                  and not await self._holds_stop(record.plugin, record.order.symbol))
        plan = initial_plan(signal_id, record.plugin, record.order, record.result,
                            entry_price=entry_price, native_stop=native, now=self._clock())
        if not await self._journal.create_exit_plan(plan):
            return None
        self._publish(plan, plan.note or "plan created")
        if plan.native_stop and plan.stop is not None:
            await self._send_stop(plan)
        return plan

    async def _holds_stop(self, plugin: str, symbol: str) -> bool:
        """Whether an active plan keeps its stop at the broker for this position already: a
        netted position holds one stop, so a second entry's plan holds its stop in tradehook
        (it closes its own quantity when crossed; the broker's stop closes what is left)."""
        return any(plan.native_stop and (plan.plugin, plan.symbol) == (plugin, symbol)
                   for plan in await self._journal.active_exit_plans())

    async def tick(self) -> None:
        """One look at every active plan's price."""
        plans = await self._journal.active_exit_plans()
        quotes: dict[tuple[str, str], MarketData | None] = {}
        for plan in plans:
            lane = (plan.plugin, plan.symbol)
            if lane not in quotes:
                quotes[lane] = await self._quote(*lane)
            quote = quotes[lane]
            if quote is not None:
                await self.advance(plan, quote.last)

    async def advance(self, plan: ExitPlan, price: float) -> ExitDecision:
        decision = decide(plan, price, filled_levels=await self._filled_levels(plan),
                          now=self._clock())
        if decision.plan is plan:
            return decision
        orders = [order for step in decision.steps
                  if (order := await self._order_for(plan, step)) is not None]
        if not await self._journal.advance_exit_plan(decision.plan, orders):
            return ExitDecision(plan)  # another manager advanced it first
        for order in orders:
            self._submit(ExecutionJob.of(order))
        if decision.plan.native_stop and decision.plan.state is ExitPlanState.ACTIVE and any(
                step.kind == "stop_moved" for step in decision.steps):
            await self._send_stop(decision.plan)
        for step in decision.steps:
            self._publish(decision.plan, step.describe())
        return decision

    async def _order_for(self, plan: ExitPlan, step: ExitStep) -> NewSignal | None:
        if step.kind == "take_profit":
            return exit_order(plan, step, step.quantity or 0.0, self._clock())
        if step.kind != "stop_hit":
            return None
        quantity = plan.open_quantity
        if plan.native_stop:
            # The broker's stop closed the position, unless a move of it failed: then what is
            # still open on the entry's side is closed at market.
            quantity = min(quantity, await self._still_open(plan))
        return exit_order(plan, step, quantity, self._clock()) if quantity > 0 else None

    async def _still_open(self, plan: ExitPlan) -> float:
        try:
            held = await self._registry.fetch_position(plan.symbol, plan.plugin)
        except ExecutionError as exc:
            logger.warning("exits: %s: cannot ask for the position after its stop: %s",
                           plan.signal_id, exc)
            return plan.open_quantity  # in doubt, close: a close of nothing is refused
        return max(held if plan.buying else -held, 0.0)

    async def _filled_levels(self, plan: ExitPlan) -> set[int]:
        filled = set()
        for level in set(plan.levels_done) - set(plan.levels_filled):
            child = await self._journal.get(exit_child_id(plan.signal_id, f"tp{level}"))
            if child is not None and child.status in FILLED:
                filled.add(level)
        return filled

    async def _quote(self, plugin: str, symbol: str) -> MarketData | None:
        try:
            return await self._registry.fetch_data(symbol, plugin)
        except Exception as exc:  # noqa: BLE001 - a plugin's trouble waits for the next tick
            logger.warning("exits: no price for %s on %s: %s", symbol, plugin, exc)
            return None

    async def _send_stop(self, plan: ExitPlan) -> None:
        assert plan.stop is not None  # noqa: S101 - callers check
        try:
            await self._registry.move_position_stop(plan.symbol, plan.side, plan.stop,
                                                    plan.plugin)
        except Exception as exc:  # noqa: BLE001 - tradehook still watches the stop itself
            logger.warning("exits: %s: the stop %g could not be sent to %s (tradehook closes "
                           "at market when the price crosses it): %s",
                           plan.signal_id, plan.stop, plan.plugin, exc)
            self._publish(plan, f"the stop could not be sent to {plan.plugin}: {exc}")

    def _publish(self, plan: ExitPlan, what: str) -> None:
        logger.info("exits: %s: %s", plan.signal_id, what)
        if self._events is not None:
            self._events.publish(SignalEvent(
                kind="exit", signal_id=plan.signal_id, plugin=plan.plugin, symbol=plan.symbol,
                reason=what, outcome=plan.state.value))

