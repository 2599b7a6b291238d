"""The exits manager with a real executor and the paper plugin: plans from filled entries, exit
orders sent once through the executor, the stop held by the paper broker or by tradehook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from plugins.mock import MockConfig, MockPlugin
from plugins.orders import Order
from plugins.registry import PluginRegistry
from webhook.errors import JournalError
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.exits.manager import ExitManager
from webhook.execute.settings import ExecutionSettings
from webhook.journal import NewSignal, SignalJournal, SignalRecord, SignalStatus, SqliteJournal
from webhook.journal.exit_plans import ExitPlan, ExitPlanState, exit_child_id
from webhook.journal.ids import new_signal_id
from webhook.observe.events import SignalEvent, SignalEvents

pytestmark = pytest.mark.anyio
SETTINGS = ExecutionSettings(retry_budget=0.3, retry_base_delay=0.01, retry_max_delay=0.05)
FINAL = (SignalStatus.FILLED, SignalStatus.FAILED, SignalStatus.CANCELLED)


class ManagedPaper(MockPlugin):
    """The paper account as a broker that cannot hold a position's stop."""

    capabilities = MockPlugin.capabilities.model_copy(update={"position_stop": False})


@dataclass
class Desk:
    journal: SignalJournal
    paper: MockPlugin
    executor: Executor
    manager: ExitManager

    async def enter(self, exits: dict[str, Any], *, quantity: float = 2, side: str = "buy",
                    **fields: Any) -> ExitPlan:
        """Store and run an entry with exits; its plan once adopted."""
        signal_id = await self.fill(exits, quantity=quantity, side=side, **fields)
        plan = await self.manager.adopt(signal_id)
        assert plan is not None
        return plan

    async def fill(self, exits: dict[str, Any], *, quantity: float = 2, side: str = "buy",
                   **fields: Any) -> str:
        """Store and run an entry with exits, up to its fill; its id."""
        signal_id = new_signal_id()
        order = Order.model_validate({"symbol": "ES", "side": side, "quantity": quantity,
                                      "client_order_id": signal_id, "exits": exits, **fields})
        signal = NewSignal(id=signal_id, received_at=time.time(), source="signed",
                           raw_body=b"{}", order=order, plugin="paper",
                           status=SignalStatus.QUEUED)
        await self.journal.record(signal)
        self.executor.submit(ExecutionJob.of(signal))
        await self.settled(signal_id)
        return signal_id

    async def price(self, price: float) -> ExitPlan | None:
        """Move the paper price, let the manager look, and wait for the exits it sent."""
        watched = await self.journal.active_exit_plans()
        self.paper.set_price("ES", price)
        await self.manager.tick()
        for plan in watched:
            for signal_id in plan.exit_order_ids():
                if await self.journal.get(signal_id) is not None:
                    await self.settled(signal_id)
        plans = await self.journal.active_exit_plans()
        return plans[0] if plans else None

    async def settled(self, signal_id: str) -> SignalRecord:
        for _ in range(500):
            record = await self.journal.get(signal_id)
            if record is not None and record.status in FINAL and self.executor.backlog == 0:
                return record
            await asyncio.sleep(0.01)
        raise AssertionError(f"{signal_id} did not settle: {record}")

    async def exit_orders(self, plan: ExitPlan) -> dict[str, SignalRecord]:
        found = {}
        for signal_id in plan.exit_order_ids():
            record = await self.journal.get(signal_id)
            if record is not None:
                found[signal_id.rpartition(".")[2]] = await self.settled(signal_id)
        return found


async def desk_with(journal: SqliteJournal, paper: MockPlugin) -> AsyncIterator[Desk]:
    await paper.init(MockConfig(delay_ms=0, slippage=0, prices={"ES": 100}))
    registry = PluginRegistry()
    registry.register(paper)
    executor = Executor(journal, registry, SETTINGS, owner="test")
    await executor.start()
    manager = ExitManager(journal, registry, executor.submit, interval=60)
    try:
        yield Desk(journal, paper, executor, manager)
    finally:
        await executor.stop(grace=1)


@pytest.fixture
async def desk(journal: SqliteJournal) -> AsyncIterator[Desk]:
    async for ready in desk_with(journal, MockPlugin("paper")):
        yield ready


@pytest.fixture
async def managed_desk(journal: SqliteJournal) -> AsyncIterator[Desk]:
    async for ready in desk_with(journal, ManagedPaper("paper")):
        yield ready


async def test_a_trailing_stop_held_by_the_paper_broker_follows_the_price_and_fires_once(
    desk: Desk,
) -> None:
    plan = await desk.enter({"trailing_stop": {"amount": 5}})
    assert (plan.native_stop, desk.paper.stop("ES")) == (True, 95)

    for price in (104, 110, 107):
        await desk.price(price)
    assert desk.paper.stop("ES") == 105
    assert await desk.price(104.5) is None

    assert desk.paper.position("ES") == 0
    assert [fill.filled_quantity for fill in desk.paper.stop_fills] == [2]
    assert await desk.exit_orders(plan) == {}  # the broker's stop closed it: nothing sent
    closed = await desk.journal.exit_plan(plan.signal_id)
    assert closed is not None and closed.state is ExitPlanState.CLOSED


async def test_a_trailing_stop_managed_by_tradehook_closes_at_market_once(
    managed_desk: Desk,
) -> None:
    desk = managed_desk
    plan = await desk.enter({"trailing_stop": {"percent": 5}})
    assert (plan.native_stop, plan.stop, desk.paper.stop("ES")) == (False, 95, None)

    await desk.price(120)
    await desk.price(113.5)
    await desk.price(110)

    orders = await desk.exit_orders(plan)
    assert list(orders) == ["stop"]
    assert orders["stop"].status is SignalStatus.FILLED
    assert orders["stop"].order is not None and orders["stop"].order.quantity == 2
    assert desk.paper.position("ES") == 0


async def test_break_even_moves_the_stop_after_the_first_take_profit_fills(desk: Desk) -> None:
    plan = await desk.enter({"take_profits": [{"price": 105, "share": 0.5},
                                              {"price": 120, "share": 0.5}],
                             "break_even": {"after_take_profit": True, "offset": 1}},
                            stop_loss=95)
    assert desk.paper.stop("ES") == 95

    after_fill = await desk.price(106)
    assert after_fill is not None and after_fill.levels_done == (1,)
    assert desk.paper.position("ES") == 1
    moved = await desk.price(106)

    assert moved is not None and (moved.stop, moved.break_even_done) == (101, True)
    assert desk.paper.stop("ES") == 101
    assert list(await desk.exit_orders(plan)) == ["tp1"]


async def test_a_three_level_ladder_closes_a_sell_in_its_shares(desk: Desk) -> None:
    plan = await desk.enter({"take_profits": [{"price": 95, "share": 0.25},
                                              {"price": 90, "share": 0.25},
                                              {"price": 85, "share": 0.5}]},
                            quantity=4, side="sell")

    positions = []
    for price in (95, 92, 90, 84):
        await desk.price(price)
        positions.append(desk.paper.position("ES"))

    assert positions == [-3, -3, -2, 0]
    orders = await desk.exit_orders(plan)
    assert {kind: (o.status, o.order and o.order.quantity) for kind, o in orders.items()} == {
        "tp1": (SignalStatus.FILLED, 1), "tp2": (SignalStatus.FILLED, 1),
        "tp3": (SignalStatus.FILLED, 2)}
    closed = await desk.journal.exit_plan(plan.signal_id)
    assert closed is not None and closed.state is ExitPlanState.CLOSED


async def test_two_managers_on_one_journal_send_each_exit_once(desk: Desk) -> None:
    plan = await desk.enter({"take_profits": [{"price": 105, "share": 1}]})
    registry = PluginRegistry()
    registry.register(desk.paper)
    other = ExitManager(desk.journal, registry, desk.executor.submit, interval=60)
    desk.paper.set_price("ES", 106)

    await asyncio.gather(desk.manager.tick(), other.tick(), desk.manager.tick())

    record = await desk.settled(exit_child_id(plan.signal_id, "tp1"))
    assert record.status is SignalStatus.FILLED
    assert desk.paper.position("ES") == 0
    assert await desk.journal.active_exit_plans() == []


async def test_a_restart_adopts_a_filled_entry_left_without_a_plan_and_resends_its_stop(
    desk: Desk,
) -> None:
    plan = await desk.enter({"trailing_stop": {"amount": 3}})
    await desk.price(110)
    desk.paper._stops.clear()  # noqa: SLF001 - the broker lost the stop while tradehook was down
    signal_id = new_signal_id()
    order = Order.model_validate({"symbol": "ES", "side": "buy", "quantity": 1,
                                  "client_order_id": signal_id,
                                  "exits": {"take_profits": [{"price": 130, "share": 1}]}})
    entry = NewSignal(id=signal_id, received_at=time.time(), source="signed", raw_body=b"{}",
                      order=order, plugin="paper", status=SignalStatus.QUEUED)
    await desk.journal.record(entry)
    desk.executor.submit(ExecutionJob.of(entry))
    await desk.settled(signal_id)

    await desk.manager.resume()

    assert desk.paper.stop("ES") == 107
    adopted = await desk.journal.exit_plan(signal_id)
    assert adopted is not None and adopted.quantity == 1
    assert [p.signal_id for p in await desk.journal.active_exit_plans()] == sorted(
        [plan.signal_id, signal_id])


async def test_a_second_entry_on_a_position_with_a_held_stop_keeps_its_own_in_tradehook(
    desk: Desk,
) -> None:
    first = await desk.enter({"trailing_stop": {"amount": 10}})
    second = await desk.enter({"trailing_stop": {"amount": 2}}, quantity=1)
    assert (first.native_stop, second.native_stop) == (True, False)
    assert desk.paper.stop("ES") == 90  # the broker holds the first plan's stop only

    await desk.price(97.5)

    orders = await desk.exit_orders(second)
    assert orders["stop"].status is SignalStatus.FILLED
    assert (desk.paper.position("ES"), desk.paper.stop("ES")) == (2, 90)


async def test_the_manager_adopts_what_the_executor_fills_with_exits_and_nothing_else(
    journal: SqliteJournal,
) -> None:
    paper = MockPlugin("paper")
    await paper.init(MockConfig(delay_ms=0, prices={"ES": 100}))
    registry = PluginRegistry()
    registry.register(paper)
    events = SignalEvents()
    executor = Executor(journal, registry, SETTINGS, events=events, owner="test")
    manager = ExitManager(journal, registry, executor.submit, interval=60, events=events)
    events.listen(manager.observe)
    await executor.start()
    try:
        desk = Desk(journal, paper, executor, manager)
        with_exits, plain = new_signal_id(), new_signal_id()
        for signal_id, exits in ((with_exits, {"trailing_stop": {"amount": 5}}), (plain, None)):
            order = Order.model_validate({"symbol": "ES", "side": "buy", "quantity": 1,
                                          "client_order_id": signal_id, "exits": exits})
            signal = NewSignal(id=signal_id, received_at=time.time(), source="signed",
                               raw_body=b"{}", order=order, plugin="paper",
                               status=SignalStatus.QUEUED)
            await journal.record(signal)
            executor.submit(ExecutionJob.of(signal))
            await desk.settled(signal_id)

        await manager.adopt_filled()
    finally:
        await executor.stop(grace=1)

    assert [plan.signal_id for plan in await journal.active_exit_plans()] == [with_exits]
    assert await journal.exit_plan(plain) is None



async def test_an_entry_the_journal_failed_on_is_adopted_at_the_next_look(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    signal_id = await desk.fill({"trailing_stop": {"amount": 5}})
    read = desk.journal.get
    failures = [JournalError("the journal is down")]

    async def flaky(wanted: str) -> SignalRecord | None:
        if failures:
            raise failures.pop()
        return await read(wanted)

    monkeypatch.setattr(desk.journal, "get", flaky)
    desk.manager.observe(SignalEvent(kind="attempt", signal_id=signal_id,
                                     status=SignalStatus.FILLED, exits=True))

    with pytest.raises(JournalError):
        await desk.manager.adopt_filled()
    await desk.manager.adopt_filled()

    assert await desk.journal.exit_plan(signal_id) is not None
