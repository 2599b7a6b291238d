"""The journal's side of the approval queue, on both back ends: one conditional write decides
between approvals, a decline and the expiry."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from tests.webhook.journal.postgres_helpers import connect, scratch_schema
from webhook.journal import NewSignal, SignalJournal, SignalStatus, open_journal
from webhook.journal.postgres_schema import SCHEMA_VERSION

pytestmark = pytest.mark.anyio
WAITING = SignalStatus.AWAITING_APPROVAL


def waiting(deadline_in: float = 300.0) -> NewSignal:
    return queued_signal(status=WAITING, approval_deadline=time.time() + deadline_in)


async def test_a_waiting_signal_is_stored_with_its_deadline_and_is_never_claimed(
    journal: SignalJournal,
) -> None:
    signal = waiting()
    await journal.record(signal)
    stored = await journal.get(signal.id)
    assert stored is not None and stored.status is WAITING
    assert stored.approval_deadline == pytest.approx(signal.approval_deadline)
    assert await journal.claim("executor", lease_seconds=30, limit=10) == []


async def test_approval_queues_it_once_and_records_when(journal: SignalJournal) -> None:
    signal = waiting()
    await journal.record(signal)
    at = time.time()
    approved = await journal.settle_approval(signal.id, SignalStatus.QUEUED, at=at,
                                             reason="approved by test")
    assert approved is not None and approved.status is SignalStatus.QUEUED
    assert approved.approved_at == pytest.approx(at) and approved.reason == "approved by test"
    assert await journal.settle_approval(signal.id, SignalStatus.QUEUED, at=time.time()) is None
    assert [r.id for r in await journal.claim("executor", lease_seconds=30, limit=10)] == [
        signal.id]


async def test_of_concurrent_approvals_and_declines_exactly_one_wins(
    journal: SignalJournal,
) -> None:
    signal = waiting()
    await journal.record(signal)
    now = time.time()
    tries = [journal.settle_approval(signal.id, SignalStatus.QUEUED, at=now) for _ in range(6)]
    tries += [journal.settle_approval(signal.id, SignalStatus.DECLINED, at=now)
              for _ in range(2)]
    won = [r for r in await asyncio.gather(*tries) if r is not None]
    assert len(won) == 1
    stored = await journal.get(signal.id)
    assert stored is not None and stored.status is won[0].status


async def test_past_its_deadline_it_cannot_be_approved_and_expires_once(
    journal: SignalJournal,
) -> None:
    due, later = waiting(deadline_in=-1), waiting(deadline_in=300)
    await journal.record(due)
    await journal.record(later)
    assert await journal.settle_approval(due.id, SignalStatus.QUEUED, at=time.time()) is None
    expired = await journal.expire_approvals(time.time(), "expired: test")
    assert [r.id for r in expired] == [due.id]
    assert expired[0].status is SignalStatus.EXPIRED and expired[0].reason == "expired: test"
    assert await journal.expire_approvals(time.time(), "expired: test") == []
    still = await journal.get(later.id)
    assert still is not None and still.status is WAITING


async def test_an_approval_and_the_expiry_at_the_deadline_do_not_both_win(
    journal: SignalJournal,
) -> None:
    signal = waiting()
    await journal.record(signal)
    deadline = signal.approval_deadline
    assert deadline is not None
    approved, expired = await asyncio.gather(
        journal.settle_approval(signal.id, SignalStatus.QUEUED, at=deadline),
        journal.expire_approvals(deadline, "expired: test"),
    )
    assert approved is None and [r.id for r in expired] == [signal.id]


async def test_decided_signals_are_not_expired(journal: SignalJournal) -> None:
    signal = waiting(deadline_in=0.5)
    await journal.record(signal)
    assert await journal.settle_approval(signal.id, SignalStatus.DECLINED, at=time.time())
    assert await journal.expire_approvals(time.time() + 10, "expired: test") == []
    stored = await journal.get(signal.id)
    assert stored is not None and stored.status is SignalStatus.DECLINED


async def test_a_version_1_postgres_journal_gains_the_approval_columns() -> None:
    with scratch_schema() as url:
        journal = open_journal(url)
        await journal.open()
        kept = queued_signal()
        await journal.record(kept)
        await journal.close()
        with connect(url) as connection:  # back to the tables of schema version 1
            connection.execute("ALTER TABLE signals DROP COLUMN approval_deadline, "
                               "DROP COLUMN approved_at")
            connection.execute("UPDATE schema_version SET version = 1")
        journal = open_journal(url)
        await journal.open()
        try:
            old = await journal.get(kept.id)
            assert old is not None and old.approval_deadline is None
            signal = waiting()
            await journal.record(signal)
            assert await journal.settle_approval(signal.id, SignalStatus.DECLINED,
                                                 at=time.time())
        finally:
            await journal.close()
        with connect(url) as connection:
            version = connection.execute("SELECT version FROM schema_version").fetchone()
        assert version == (SCHEMA_VERSION,)
