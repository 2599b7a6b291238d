"""The executor's fast path: signals leased as they are stored run from memory, and each lane's
next signal is handed on by the journal, with no claim in between."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from pathlib import Path

import pytest

from plugins.errors import TemporaryError
from tests.webhook.execute.test_executor import FAST, BrokerStandIn, settle, started
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.execute.executor import ExecutionJob, Executor
from webhook.journal import NewSignal, SignalRecord, SignalStatus, SqliteJournal

pytestmark = pytest.mark.anyio
QUIET = FAST.model_copy(update={"poll_interval": 60})
"""No poll during a test: whatever runs, runs by the fast path or a claim it asked for."""


class CountingJournal(SqliteJournal):
    claims = 0
    claimed = asyncio.Event()

    async def claim(self, owner: str, *, lease_seconds: float, limit: int,
                    exclude_plugins: Collection[str] = ()) -> list[SignalRecord]:
        self.claims += 1
        self.claimed.set()
        return await super().claim(owner, lease_seconds=lease_seconds, limit=limit,
                                   exclude_plugins=exclude_plugins)


@pytest.fixture
async def journal(tmp_path: Path) -> CountingJournal:
    store = CountingJournal(tmp_path / "journal.db")
    store.claimed = asyncio.Event()
    await store.open()
    yield store  # type: ignore[misc]
    await store.close()


async def store_and_submit(journal: SqliteJournal, executor: Executor, plugin: str,
                           signal: NewSignal) -> bool:
    """As the receiving pipeline does: ask for the lease, store, hand the job over."""
    assert signal.order is not None
    stored = await journal.record(
        signal.model_copy(update={"lease": executor.lease_for(plugin)}))
    executor.submit(ExecutionJob.of(signal, leased=stored.leased))
    return stored.leased


async def quiet_executor(journal: CountingJournal, broker: BrokerStandIn) -> Executor:
    executor = await started(journal, broker, QUIET)
    await journal.claimed.wait()  # the claim at start, for what an earlier run left
    return executor


async def test_signals_leased_as_stored_run_without_a_claim(journal: CountingJournal) -> None:
    broker = BrokerStandIn()
    executor = await quiet_executor(journal, broker)
    try:
        signals = [queued_signal(f"S{n}/USDT") for n in range(3)]
        assert [await store_and_submit(journal, executor, "paper", s) for s in signals] == [
            True, True, True]
        records = await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert journal.claims == 1


async def test_a_lane_runs_in_arrival_order_handed_on_without_claims(
    journal: CountingJournal,
) -> None:
    broker = BrokerStandIn(delay=0.02)
    executor = await quiet_executor(journal, broker)
    try:
        signals = [queued_signal("BTC/USDT") for _ in range(5)]
        leased = [await store_and_submit(journal, executor, "paper", s) for s in signals]
        records = await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)
    assert leased == [True, False, False, False, False]
    assert broker.calls == [s.id for s in signals]
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert journal.claims == 1


async def test_more_leased_signals_than_slots_wait_their_turn(journal: CountingJournal) -> None:
    broker = BrokerStandIn(delay=0.02)
    executor = await started(journal, broker, QUIET.model_copy(update={"concurrency": 2}))
    try:
        signals = [queued_signal(f"S{n}/USDT") for n in range(6)]
        for signal in signals:
            await store_and_submit(journal, executor, "paper", signal)
        running = len([t for t in asyncio.all_tasks() if t.get_name().startswith("signal ")])
        records = await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)
    assert running == 2
    assert sorted(broker.calls) == sorted(s.id for s in signals)
    assert {r.status for r in records} == {SignalStatus.FILLED}


async def test_no_lease_is_asked_for_a_plugin_its_breaker_holds_back(
    journal: CountingJournal,
) -> None:
    settings = FAST.model_copy(update={"breaker_failures": 1, "breaker_cooldown": 60,
                                       "retry_budget": 0.05})
    broker = BrokerStandIn(script=[TemporaryError("down")] * 100)
    executor = await started(journal, broker, settings)
    try:
        assert executor.lease_for("paper") is not None
        await store_and_submit(journal, executor, "paper", queued_signal())
        for _ in range(400):
            if executor.breakers.waiting_plugins():
                break
            await asyncio.sleep(0.005)
        assert executor.lease_for("paper") is None
    finally:
        await executor.stop(grace=0.1)
    assert executor.lease_for("paper") is None  # stopping: nothing is taken any more


async def test_a_stopped_executor_gives_back_what_it_was_handed(
    journal: CountingJournal,
) -> None:
    broker = BrokerStandIn(delay=0.3)
    executor = await quiet_executor(journal, broker)
    first, second = queued_signal(), queued_signal()
    await store_and_submit(journal, executor, "paper", first)
    await store_and_submit(journal, executor, "paper", second)
    await asyncio.sleep(0.05)  # the first is at the broker
    await executor.stop(grace=1)
    # The second was not handed on to a stopping executor: anyone may claim it at once.
    (claimed,) = await journal.claim("another", lease_seconds=30, limit=10)
    assert claimed.id == second.id


async def test_a_signal_handed_on_past_its_max_lag_expires_unsent(
    journal: CountingJournal,
) -> None:
    broker = BrokerStandIn(delay=0.02)
    executor = await quiet_executor(journal, broker)
    try:
        head = queued_signal()
        stale = queued_signal().model_copy(update={"received_at": time.time() - 1000})
        await store_and_submit(journal, executor, "paper", head)
        await store_and_submit(journal, executor, "paper", stale)
        first, second = await settle(journal, executor, [head.id, stale.id])
    finally:
        await executor.stop(grace=1)
    assert (first.status, second.status) == (SignalStatus.FILLED, SignalStatus.EXPIRED)
    assert broker.calls == [head.id]
