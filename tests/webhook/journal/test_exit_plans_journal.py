"""Exit plans in the journal, on both back ends: created once, advanced by compare-and-set with
their exit orders in the same transaction, found again after a restart."""

from __future__ import annotations

import time

import pytest

from plugins.orders import ExecutionResult, ExecutionStatus, ManagedExits, Order, OrderSide
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.journal import NewSignal, SignalJournal, SignalStatus
from webhook.journal.exit_plans import ExitPlan, ExitPlanState, exit_child_id
from webhook.journal.records import child_id

pytestmark = pytest.mark.anyio
EXITS = ManagedExits.model_validate({"trailing_stop": {"amount": 5},
                                     "take_profits": [{"price": 110, "share": 0.5}]})


def entry_with_exits() -> NewSignal:
    signal = queued_signal("ES")
    order = signal.order.model_copy(update={"exits": EXITS}) if signal.order else None
    return signal.model_copy(update={"order": order, "raw_body": b"{}"})


def plan_of(entry: NewSignal) -> ExitPlan:
    now = time.time()
    return ExitPlan(signal_id=entry.id, plugin="paper", symbol="ES", side=OrderSide.BUY,
                    entry_price=100.0, quantity=2.0, open_quantity=2.0, exits=EXITS, stop=95.0,
                    best_price=100.0, created_at=now, updated_at=now)


def exit_order(entry: NewSignal, kind: str) -> NewSignal:
    order = Order.model_validate({"symbol": "ES", "side": "sell", "action": "close",
                                  "quantity": 1, "client_order_id": exit_child_id(entry.id, kind)})
    return NewSignal(id=exit_child_id(entry.id, kind), received_at=time.time(), source="signed",
                     raw_body=b"", order=order, plugin="paper", status=SignalStatus.QUEUED)


async def filled(journal: SignalJournal, signal: NewSignal) -> None:
    await journal.record(signal)
    number = await journal.start_attempt(signal.id, time.time())
    result = ExecutionResult(success=True, status=ExecutionStatus.FILLED, filled_quantity=2,
                             average_price=100.0)
    await journal.finish_attempt(signal.id, number, outcome="result",
                                 status=SignalStatus.FILLED, result=result)


async def test_a_plan_is_created_once_and_read_back_whole(journal: SignalJournal) -> None:
    entry = entry_with_exits()
    await filled(journal, entry)
    plan = plan_of(entry)

    assert await journal.create_exit_plan(plan) is True
    assert await journal.create_exit_plan(plan.model_copy(update={"stop": 1.0})) is False

    assert await journal.exit_plan(entry.id) == plan
    assert await journal.active_exit_plans() == [plan]


async def test_an_advance_stores_its_exit_orders_and_a_stale_one_writes_nothing(
    journal: SignalJournal,
) -> None:
    entry = entry_with_exits()
    await filled(journal, entry)
    plan = plan_of(entry)
    await journal.create_exit_plan(plan)
    advanced = plan.model_copy(update={
        "version": 2, "open_quantity": 1.0, "levels_done": (1,), "stop": 104.5,
        "best_price": 110.0, "note": "take-profit 1"})

    assert await journal.advance_exit_plan(advanced, [exit_order(entry, "tp1")]) is True
    stale = plan.model_copy(update={"version": 2, "state": ExitPlanState.CLOSED})
    assert await journal.advance_exit_plan(stale, [exit_order(entry, "stop")]) is False

    assert await journal.exit_plan(entry.id) == advanced
    tp1 = await journal.get(exit_child_id(entry.id, "tp1"))
    assert tp1 is not None and tp1.status is SignalStatus.QUEUED
    assert await journal.get(exit_child_id(entry.id, "stop")) is None
    claimed = await journal.claim("me", lease_seconds=30, limit=10)
    assert [record.id for record in claimed] == [exit_child_id(entry.id, "tp1")]


async def test_closed_plans_are_not_active(journal: SignalJournal) -> None:
    entry = entry_with_exits()
    await filled(journal, entry)
    plan = plan_of(entry)
    await journal.create_exit_plan(plan)

    closed = plan.model_copy(update={"version": 2, "state": ExitPlanState.CLOSED,
                                     "open_quantity": 0.0})
    assert await journal.advance_exit_plan(closed) is True

    assert await journal.active_exit_plans() == []
    assert await journal.exit_plan(entry.id) == closed


async def test_filled_entries_with_exits_and_no_plan_are_found(journal: SignalJournal) -> None:
    planned, unplanned, plain = entry_with_exits(), entry_with_exits(), queued_signal("ES")
    for signal in (planned, unplanned, plain):
        await filled(journal, signal)
    await journal.record(entry_with_exits())  # queued: not filled yet
    await journal.create_exit_plan(plan_of(planned))

    assert await journal.entries_without_plan(time.time() - 60) == [unplanned.id]
    assert await journal.entries_without_plan(time.time() + 1) == []


async def test_a_fanned_out_parent_lists_its_accounts_not_their_exit_orders(
    journal: SignalJournal,
) -> None:
    parent = queued_signal(status=SignalStatus.FANNED_OUT).model_copy(update={"plugin": None})
    account = entry_with_exits().model_copy(update={"id": child_id(parent.id, 1)})
    await journal.record(parent, [account])
    await journal.record(exit_order(account, "tp1"))

    stored = await journal.get(parent.id)

    assert stored is not None and [c.id for c in stored.children] == [account.id]
