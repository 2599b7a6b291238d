"""A lane's signals stored while its executor runs it: leased at receipt, waiting in memory
behind the running one, and each sent as soon as the one before is settled at the broker, not
once its final status is committed."""

from __future__ import annotations

import asyncio
import functools
import operator
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from typing import Any

import pytest

from plugins.base import PluginCapabilities
from plugins.orders import ExecutionResult
from tests.webhook.execute.test_executor import FAST, BlindBroker, BrokerStandIn, settle, started
from tests.webhook.execute.test_executor_handover import QUIET, CountingJournal, store_and_submit
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.errors import JournalError, NameTaken
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.settings import ExecutionSettings
from webhook.journal import HandedOn, Lease, NewSignal, SignalRecord, SignalStatus
from webhook.journal.records import LANE_AHEAD, PENDING

pytestmark = pytest.mark.anyio


class PaperLikeBroker(BrokerStandIn):
    """Its lookup answers "not found" for an order it was never sent, as the paper account's."""

    capabilities = PluginCapabilities(client_order_ids=True, lookup_by_client_order_id=True,
                                      unsent_orders_not_found=True)


class HeldFinishes(CountingJournal):
    """A journal whose final statuses are committed only once `commits` is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.commits = asyncio.Event()
        self.starts = 0

    async def finish_attempt(self, signal_id: str, number: int, *, outcome: str,
                             status: SignalStatus, result: ExecutionResult | None = None,
                             error: str | None = None,
                             hand_on: Lease | None = None) -> HandedOn | None:
        if status not in PENDING:
            await self.commits.wait()
        return await super().finish_attempt(signal_id, number, outcome=outcome, status=status,
                                            result=result, error=error, hand_on=hand_on)


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[HeldFinishes]:
    store = HeldFinishes(tmp_path / "journal.db")
    store.commits.set()
    store.claimed = asyncio.Event()
    await store.open()
    yield store
    store.commits.set()
    await store.close()


async def running(journal: HeldFinishes, broker: BrokerStandIn,
                  settings: ExecutionSettings) -> Executor:
    """A started executor, once its first claim round gave up what its name held before (a
    receipt may join its lanes from then on)."""
    journal.claimed.clear()
    executor = await started(journal, broker, settings)
    await journal.claimed.wait()
    return executor


async def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 3.0
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.005)


def lease_until(path: Path, signal_id: str) -> float | None:
    with sqlite3.connect(path) as connection:
        (until,) = connection.execute(
            "SELECT lease_until FROM signals WHERE id = ?", (signal_id,)).fetchone()
    return None if until is None else float(until)


def lease_elsewhere(path: Path, signal_id: str, owner: str, seconds: float) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE signals SET lease_owner = ?, lease_until = ? WHERE id = ?",
                           (owner, time.time() + seconds, signal_id))


async def test_the_next_signal_is_sent_before_the_previous_final_status_is_committed(
    journal: HeldFinishes,
) -> None:
    broker = PaperLikeBroker()
    broker.gate = asyncio.Event()  # all three stored while the first is at the broker
    executor = await running(journal, broker, QUIET)
    try:
        lane = [queued_signal("BTC/USDT") for _ in range(3)]
        leased = [await store_and_submit(journal, executor, "paper", s) for s in lane]
        journal.commits.clear()
        broker.gate.set()
        await wait_for(lambda: len(broker.calls) == 3)
        # Every order reached the broker, in arrival order, while no final status is on disk.
        pending = [await journal.get(s.id) for s in lane]
        journal.commits.set()
        records = await settle(journal, executor, [s.id for s in lane])
    finally:
        journal.commits.set()
        await executor.stop(grace=1)
    assert leased == [True, True, True]
    assert broker.calls == [s.id for s in lane]
    assert [r.status for r in pending if r is not None] == [SignalStatus.EXECUTING] * 3
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert journal.starts == 0  # each attempt was opened with its receipt


@pytest.mark.parametrize("broker_type", [BlindBroker, BrokerStandIn])
async def test_a_plugin_that_cannot_tell_an_unsent_order_keeps_to_the_hand_on(
    journal: HeldFinishes, broker_type: type[BrokerStandIn],
) -> None:
    """No lookups at all, or lookups that may leave an unsent order unknown (NinjaTrader's
    file interface): nothing waits with its attempt open behind the running signal, which a
    crash would leave for a person to check; each next one is handed on as before."""
    broker = broker_type()
    broker.gate = asyncio.Event()
    executor = await running(journal, broker, QUIET)
    try:
        lane = [queued_signal("BTC/USDT") for _ in range(3)]
        leased = [await store_and_submit(journal, executor, "paper", s) for s in lane]
        behind = [await journal.get(s.id) for s in lane[1:]]
        broker.gate.set()
        records = await settle(journal, executor, [s.id for s in lane])
    finally:
        await executor.stop(grace=1)
    assert leased == [True, False, False]
    assert [(r.status, r.attempts) for r in behind if r is not None] == [
        (SignalStatus.QUEUED, [])] * 2
    assert broker.calls == [s.id for s in lane]
    assert {r.status for r in records} == {SignalStatus.FILLED}


async def test_leases_of_signals_waiting_in_a_lane_are_renewed(
    journal: HeldFinishes, tmp_path: Path,
) -> None:
    broker = PaperLikeBroker()
    broker.gate = asyncio.Event()
    executor = await running(journal, broker, QUIET.model_copy(update={"lease_seconds": 1}))
    try:
        first, waiting = queued_signal(), queued_signal()
        for signal in (first, waiting):
            await store_and_submit(journal, executor, "paper", signal)
        await asyncio.sleep(1.5)  # past the lease taken at receipt
        until = lease_until(tmp_path / "journal.db", waiting.id)
        broker.gate.set()
        await settle(journal, executor, [first.id, waiting.id])
    finally:
        await executor.stop(grace=1)
    assert until is not None and until > time.time() - 0.5


async def test_a_stop_gives_back_the_signals_waiting_in_a_lane_and_they_run_after_restart(
    journal: HeldFinishes,
) -> None:
    broker = PaperLikeBroker(delay=0.2)
    executor = await running(journal, broker, QUIET)
    lane = [queued_signal("BTC/USDT") for _ in range(3)]
    for signal in lane:
        await store_and_submit(journal, executor, "paper", signal)
    opened = [await journal.get(s.id) for s in lane[1:]]
    await executor.stop(grace=1)  # the first ends at the broker meanwhile; the rest wait
    given_back = [await journal.get(s.id) for s in lane[1:]]
    claimable = await journal.claim("another", lease_seconds=30, limit=10)
    await journal.release("another", [record.id for record in claimable])
    restarted = await running(journal, broker, FAST)
    try:
        records = await settle(journal, restarted, [s.id for s in lane])
    finally:
        await restarted.stop(grace=1)
    assert [(r.status, len(r.attempts)) for r in opened if r is not None] == [
        (SignalStatus.EXECUTING, 1)] * 2
    assert [(r.status, r.attempts) for r in given_back if r is not None] == [
        (SignalStatus.QUEUED, [])] * 2
    assert [record.id for record in claimable] == [lane[1].id]  # no lease held any more
    assert broker.calls == [s.id for s in lane]
    assert {r.status for r in records} == {SignalStatus.FILLED}


async def test_signals_behind_one_that_ends_unsettled_wait_for_it_in_the_journal(
    journal: HeldFinishes, tmp_path: Path,
) -> None:
    broker = PaperLikeBroker()
    executor = await running(journal, broker, FAST.model_copy(update={"poll_interval": 0.05}))
    try:
        head, *behind = (queued_signal("BTC/USDT") for _ in range(3))
        stored = [await journal.record(signal.model_copy(update={
            "lease": executor.lease_for("paper", starting=signal.id if signal in behind else None)
        })) for signal in (head, *behind)]
        # Another executor takes the head before its send: it ends here unsettled, pending.
        lease_elsewhere(tmp_path / "journal.db", head.id, "other", seconds=0.3)
        for signal, answer in zip((head, *behind), stored, strict=True):
            executor.submit(ExecutionJob.of(signal, leased=answer.leased, attempt=answer.attempt))
        records = await settle(journal, executor, [head.id, *(s.id for s in behind)])
    finally:
        await executor.stop(grace=1)
    assert [s.leased for s in stored] == [True, True, True]
    assert broker.calls == [head.id, *(s.id for s in behind)]  # none overtook the head
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert [[a.outcome for a in r.attempts] for r in records[1:]] == [["result"]] * 2


class FailsOneStart(HeldFinishes):
    """A journal that cannot open the attempt of `failing` once (a locked or full disk), and
    whose claim rounds wait while `claims_open` is clear."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failing: str | None = None
        self.claims_open = asyncio.Event()

    async def start_attempt(self, signal_id: str, started_at: float, *,
                            owner: str | None = None) -> int:
        if signal_id == self.failing:
            self.failing = None
            raise JournalError("database is locked")
        return await super().start_attempt(signal_id, started_at, owner=owner)

    async def claim(self, owner: str, *, lease_seconds: float, limit: int,
                    exclude_plugins: Collection[str] = ()) -> list[SignalRecord]:
        await self.claims_open.wait()
        return await super().claim(owner, lease_seconds=lease_seconds, limit=limit,
                                   exclude_plugins=exclude_plugins)


async def test_a_receipt_leased_behind_a_head_that_ended_unsettled_is_sent_after_it(
    tmp_path: Path,
) -> None:
    journal = FailsOneStart(tmp_path / "journal.db")
    journal.commits.set()
    journal.claims_open.set()
    await journal.open()
    broker = PaperLikeBroker()
    executor = await running(journal, broker, FAST)
    try:
        journal.claims_open.clear()  # the claim that would run the head again waits
        head, newcomer = queued_signal("BTC/USDT"), queued_signal("BTC/USDT")
        journal.failing = head.id  # its run ends with its lease held, the signal queued
        stored = await journal.record(head.model_copy(
            update={"lease": executor.lease_for("paper")}))
        executor.submit(ExecutionJob.of(head, leased=stored.leased, attempt=stored.attempt))
        await wait_for(lambda: journal.failing is None and not executor.runs_now(head.id))
        # Every pending signal of the lane is this executor's, so the newcomer is leased
        # behind the head with its attempt opened; it is given back, not sent first.
        assert await store_and_submit(journal, executor, "paper", newcomer)
        await asyncio.sleep(0.05)
        journal.claims_open.set()
        await settle(journal, executor, [head.id, newcomer.id])
    finally:
        journal.claims_open.set()
        await executor.stop(grace=1)
        await journal.close()
    assert broker.calls == [head.id, newcomer.id]


async def test_a_restart_under_the_same_name_takes_no_receipt_behind_its_last_runs_leases(
    journal: HeldFinishes,
) -> None:
    earlier = [queued_signal("BTC/USDT") for _ in range(2)]
    for signal in earlier:  # leased with their attempts by the run that was killed
        lease = Lease("test", 30, starting=signal.id, joins_lane=True, ahead=True)
        await journal.record(signal.model_copy(update={"lease": lease}))
    broker = PaperLikeBroker(delay=0.1)
    executor = await running(journal, broker, QUIET)
    try:
        newcomer = queued_signal("BTC/USDT")
        await store_and_submit(journal, executor, "paper", newcomer)
        await settle(journal, executor, [*(s.id for s in earlier), newcomer.id])
    finally:
        await executor.stop(grace=1)
    assert broker.calls == [*(s.id for s in earlier), newcomer.id]


async def test_a_receipt_committed_with_a_hand_on_is_sent_after_the_signal_handed_on(
    journal: HeldFinishes,
) -> None:
    """The hand-on of a lane's next signal and a newer receipt of that lane share one commit
    (the receipt, written second, finds the lane held by this executor and is leased behind
    it): the signal handed on is still sent first, then the receipt."""
    broker = PaperLikeBroker()
    broker.gate = asyncio.Event()
    executor = await running(journal, broker, QUIET)
    try:
        first, handed, newer = (queued_signal("BTC/USDT") for _ in range(3))
        assert await store_and_submit(journal, executor, "paper", first)
        # Stored without a lease, as another receiver of the journal would: it waits in the
        # journal for the hand-on of the running signal's lane.
        await journal.record(handed)
        assert handed.order is not None
        executor.submit(ExecutionJob(handed.id, handed.order, "paper"))
        await wait_for(lambda: broker.calls == [first.id])
        journal.commits.clear()  # the first one's final status waits...
        broker.gate.set()
        await asyncio.sleep(0.05)
        # ...until the newer receipt is queued right behind it, in the same batch: a commit
        # just now makes the journal queue both instead of committing either alone.
        journal._writer._committed_at = time.monotonic()  # noqa: SLF001
        journal.commits.set()
        await asyncio.sleep(0)  # the final status is queued, its batch not yet taken
        await store_and_submit(journal, executor, "paper", newer)
        await settle(journal, executor, [first.id, handed.id, newer.id])
    finally:
        journal.commits.set()
        await executor.stop(grace=1)
    assert broker.calls == [first.id, handed.id, newer.id]


async def backlog_behind(journal: HeldFinishes, executor: Executor, broker: BrokerStandIn,
                         count: int) -> tuple[NewSignal, list[NewSignal]]:
    """A lane's first signal at the (gated) broker, then `count` more stored without leases
    behind it, as another receiver would store them."""
    first = queued_signal("BTC/USDT")
    assert await store_and_submit(journal, executor, "paper", first)
    await wait_for(lambda: broker.calls == [first.id])
    lane = [queued_signal("BTC/USDT") for _ in range(count)]
    for signal in lane:
        await journal.record(signal)
        assert signal.order is not None
        executor.submit(ExecutionJob(signal.id, signal.order, "paper"))
    return first, lane


async def test_a_lane_backlog_is_handed_on_many_at_a_time_and_runs_in_order(
    journal: HeldFinishes,
) -> None:
    """Stored without leases (as another receiver would, or past `LANE_AHEAD`), a lane's
    backlog is handed on up to `LANE_AHEAD` signals at a time with their attempts opened: each
    hand-on is one transaction for many signals, not one per signal. While a lane's next job
    takes the slot of the one before (from memory), a claim would find nothing new, so the
    claims of the drain are a few, not one per signal."""
    handed_ons: list[HandedOn] = []
    finish = journal.finish_attempt

    async def counted(signal_id: str, number: int, **kwargs: Any) -> HandedOn | None:
        handed = await finish(signal_id, number, **kwargs)
        if handed is not None:
            handed_ons.append(handed)
        return handed

    journal.finish_attempt = counted  # type: ignore[method-assign]
    broker = PaperLikeBroker(delay=0.002)  # each signal ends on a loop turn of its own
    broker.gate = asyncio.Event()
    executor = await running(journal, broker, QUIET)
    try:
        first, lane = await backlog_behind(journal, executor, broker, 150)
        claims_before = journal.claims
        broker.gate.set()
        records = await settle(journal, executor, [s.id for s in lane])
    finally:
        await executor.stop(grace=1)
    assert broker.calls == [first.id, *(s.id for s in lane)]
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert len(handed_ons) == 3  # 64, 64 and the last 22
    assert [1 + len(h.following) for h in handed_ons] == [LANE_AHEAD, LANE_AHEAD, 22]
    assert journal.starts == 0  # every attempt was opened with a hand-on
    assert journal.claims - claims_before <= 5


async def test_jobs_settled_but_not_yet_committed_leave_their_slots_to_new_receipts(
    journal: HeldFinishes,
) -> None:
    """`concurrency` bounds the orders at brokers: a job settled there whose final status is
    still being committed holds no slot, so a receipt meanwhile is sent at once, its attempt
    opened with it."""
    broker = PaperLikeBroker()
    settings = QUIET.model_copy(update={"concurrency": 2})
    executor = await running(journal, broker, settings)
    try:
        journal.commits.clear()  # no final status reaches the disk for now
        settled = [queued_signal(f"SYM{n}/USDT") for n in range(3)]
        for signal in settled:
            assert await store_and_submit(journal, executor, "paper", signal)
            # At the broker before the next receipt: a store that commits on the loop does
            # not yield to it, and two jobs not yet run would hold both slots.
            await wait_for(functools.partial(operator.contains, broker.calls, signal.id))
        late = queued_signal("LATE/USDT")
        assert await store_and_submit(journal, executor, "paper", late)
        await wait_for(lambda: late.id in broker.calls)  # while the three wait on the disk
        journal.commits.set()
        records = await settle(journal, executor, [s.id for s in [*settled, late]])
    finally:
        journal.commits.set()
        await executor.stop(grace=1)
    assert {r.status for r in records} == {SignalStatus.FILLED}
    assert journal.starts == 0  # each attempt was opened with its receipt


async def test_a_second_executor_of_the_same_name_does_not_start(
    journal: HeldFinishes,
) -> None:
    """Its start would give up the leases of the name (those of the running one) and claim
    that one's signals as its own: it is refused before it does anything, and a restart after
    the first stopped takes the name."""
    broker = PaperLikeBroker()
    first = await running(journal, broker, QUIET)
    try:
        lane = [queued_signal("BTC/USDT") for _ in range(3)]
        broker.gate = asyncio.Event()
        for signal in lane:
            assert await store_and_submit(journal, first, "paper", signal)
        claims = journal.claims
        with pytest.raises(NameTaken, match="'test'"):
            await started(journal, PaperLikeBroker(), QUIET)
        assert journal.claims == claims  # it claimed nothing
        broker.gate.set()
        records = await settle(journal, first, [s.id for s in lane])
    finally:
        await first.stop(grace=1)
    assert broker.calls == [s.id for s in lane]
    assert {r.status for r in records} == {SignalStatus.FILLED}
    again = await started(journal, broker, QUIET)
    await again.stop(grace=1)
