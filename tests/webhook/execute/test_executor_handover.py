"""The executor's fast path: signals leased as they are stored run from memory, and each lane's
next signal is handed on by the journal, with no claim in between; the first attempt of each
is opened in that same transaction, so that no journal write comes between it and its send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from pathlib import Path

import pytest

from plugins.errors import TemporaryError
from plugins.registry import PluginRegistry
from tests.webhook.execute.test_executor import FAST, BrokerStandIn, settle, started
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.execute import received as received_module
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.kill_switch import KillSwitch
from webhook.journal import (
    Lease,
    NewSignal,
    SignalRecord,
    SignalStatus,
    SqliteJournal,
    sqlite_lanes,
)

pytestmark = pytest.mark.anyio
QUIET = FAST.model_copy(update={"poll_interval": 60})
"""No poll during a test: whatever runs, runs by the fast path or a claim it asked for."""


class CountingJournal(SqliteJournal):
    claims = 0
    starts = 0
    claimed = asyncio.Event()

    async def start_attempt(self, signal_id: str, started_at: float, *,
                            owner: str | None = None) -> int:
        self.starts += 1
        return await super().start_attempt(signal_id, started_at, owner=owner)

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
        signal.model_copy(update={"lease": executor.lease_for(plugin, starting=signal.id)}))
    executor.submit(ExecutionJob.of(signal, leased=stored.leased, attempt=stored.attempt))
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


@pytest.fixture
def hand_on_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lease at receipt into empty lanes only, as past `LANE_AHEAD` signals of a lane: what is
    stored behind its running signal is handed on by the journal as each ends."""
    monkeypatch.setattr(sqlite_lanes, "LANE_AHEAD", 1)


@pytest.mark.usefixtures("hand_on_only")
async def test_a_lane_runs_in_arrival_order_handed_on_without_claims(
    journal: CountingJournal,
) -> None:
    broker = BrokerStandIn(delay=0.02)
    broker.gate = asyncio.Event()  # the first order waits until all five are stored
    executor = await quiet_executor(journal, broker)
    try:
        signals = [queued_signal("BTC/USDT") for _ in range(5)]
        leased = [await store_and_submit(journal, executor, "paper", s) for s in signals]
        broker.gate.set()
        records = await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)
    assert leased == [True, False, False, False, False]
    assert broker.calls == [s.id for s in signals]
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert journal.claims == 1


async def test_more_leased_signals_than_slots_wait_their_turn(journal: CountingJournal) -> None:
    broker = BrokerStandIn(delay=0.02)
    broker.gate = asyncio.Event()  # the first sends wait until all six are stored
    executor = await started(journal, broker, QUIET.model_copy(update={"concurrency": 2}))
    try:
        signals = [queued_signal(f"S{n}/USDT") for n in range(6)]
        for signal in signals:
            await store_and_submit(journal, executor, "paper", signal)
        await asyncio.sleep(0.05)
        waiting = len(broker.calls)
        broker.gate.set()
        records = await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)
    assert waiting == 2
    assert broker.most_in_flight == 2
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


async def test_signals_stored_and_handed_on_are_sent_with_no_journal_write_of_their_own(
    journal: CountingJournal,
) -> None:
    broker = BrokerStandIn(delay=0.01)
    broker.gate = asyncio.Event()  # every lane signal is received before the first ends
    executor = await quiet_executor(journal, broker)
    try:
        alone = queued_signal("ETH/USDT")
        lane = [queued_signal("BTC/USDT") for _ in range(4)]
        for signal in (alone, *lane):
            await store_and_submit(journal, executor, "paper", signal)
        broker.gate.set()
        records = await settle(journal, executor, [s.id for s in (alone, *lane)])
    finally:
        await executor.stop(grace=1)
    assert journal.starts == 0
    assert [[a.outcome for a in r.attempts] for r in records] == [["result"]] * 5
    in_lane = [s.id for s in lane]
    assert [call for call in broker.calls if call in in_lane] == in_lane


async def test_a_retry_opens_its_attempt_before_its_send(journal: CountingJournal) -> None:
    broker = BrokerStandIn(script=[TemporaryError("busy")])
    executor = await quiet_executor(journal, broker)
    try:
        signal = queued_signal()
        await store_and_submit(journal, executor, "paper", signal)
        (record,) = await settle(journal, executor, [signal.id])
    finally:
        await executor.stop(grace=1)
    assert journal.starts == 1
    assert [a.outcome for a in record.attempts] == ["temporary", "result"]


async def test_nothing_is_started_ahead_while_the_kill_switch_is_engaged(
    journal: CountingJournal,
) -> None:
    registry = PluginRegistry()
    registry.register(BrokerStandIn())
    executor = Executor(journal, registry, QUIET, owner="test",
                        kill_switch=KillSwitch(journal, configured=True))
    lease = executor.lease_for("paper", starting="01SIGNAL")
    assert lease is not None and lease.starting is None


async def test_a_stopped_executor_withdraws_the_attempts_it_opened_and_never_sent(
    journal: CountingJournal,
) -> None:
    broker = BrokerStandIn(delay=0.3)
    executor = await started(journal, broker, QUIET.model_copy(update={"concurrency": 1}))
    await journal.claimed.wait()
    first, second = queued_signal("BTC/USDT"), queued_signal("ETH/USDT")
    # Both asked for their lease while the one slot was free: the second waits for it with its
    # attempt open.
    leases = [executor.lease_for("paper", starting=s.id) for s in (first, second)]
    stored = [await journal.record(s.model_copy(update={"lease": lease}))
              for s, lease in zip((first, second), leases, strict=True)]
    for signal, answer in zip((first, second), stored, strict=True):
        executor.submit(ExecutionJob.of(signal, leased=True, attempt=answer.attempt))
    await asyncio.sleep(0.05)  # the first is at the broker
    await executor.stop(grace=1)
    waited = await journal.get(second.id)
    assert waited is not None
    assert (waited.status, waited.attempts) == (SignalStatus.QUEUED, [])
    assert broker.calls == [first.id]


async def test_a_started_signal_whose_executor_vanished_is_looked_up_before_it_is_sent(
    journal: CountingJournal,
) -> None:
    signal = queued_signal()
    lease = Lease("vanished", 0.2, starting=signal.id)
    assert (await journal.record(signal.model_copy(update={"lease": lease}))).attempt == 1
    broker = BrokerStandIn()
    executor = await started(journal, broker, FAST, owner="survivor")
    try:
        (record,) = await settle(journal, executor, [signal.id])
    finally:
        await executor.stop(grace=1)
    assert [a.outcome for a in record.attempts] == [None, "not_found", "result"]
    assert broker.lookups == ["BTC/USDT"]


@pytest.mark.usefixtures("hand_on_only")
async def test_a_backlog_past_the_jobs_held_runs_in_order_read_back_from_the_journal(
    journal: CountingJournal, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(received_module, "MAX_JOBS_HELD", 2)
    broker = BrokerStandIn(delay=1.0)  # the head is at the broker while the rest are stored
    executor = await quiet_executor(journal, broker)
    try:
        signals = [queued_signal("BTC/USDT") for _ in range(8)]
        for signal in signals:
            await store_and_submit(journal, executor, "paper", signal)
        held = executor._received.jobs_held
        backlog = executor.backlog
        broker.delay = 0.01
        records = await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)
    assert held == 2  # of the 7 stored behind the leased head, only their ids are kept
    assert backlog == 8
    assert broker.calls == [s.id for s in signals]  # handed on, in arrival order
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert journal.claims == 1  # the five not held were read back, not claimed


async def test_ids_past_the_remembered_are_forgotten_oldest_first(
    journal: CountingJournal, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signals another executor ran never come back: what `backlog` counts stays bounded."""
    monkeypatch.setattr(received_module, "MAX_REMEMBERED", 3)
    executor = Executor(journal, PluginRegistry(), QUIET, owner="receiver")  # never started
    signals = [queued_signal("BTC/USDT") for _ in range(10)]
    for signal in signals:
        assert signal.order is not None
        executor.submit(ExecutionJob(signal.id, signal.order, "paper"))
    assert executor.backlog == 3
    assert executor._received.jobs_held <= 3
