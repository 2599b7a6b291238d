"""The PostgreSQL journal's group commit: the writes of concurrent requests share transactions,
one bad write fails alone, and leases at receipt stay one per lane across processes."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from tests.webhook.journal.postgres_helpers import connect
from webhook.errors import JournalError, LeaseLost
from webhook.journal import Lease, SignalStatus
from webhook.journal.postgres import PostgresJournal

pytestmark = pytest.mark.anyio


def transactions_that_wrote(postgres_url: str, table: str) -> int:
    """How many transactions inserted the rows of `table` (rows of one share its xmin)."""
    with connect(postgres_url) as connection:
        row = connection.execute(
            f"SELECT COUNT(DISTINCT xmin::text) FROM {table}"  # noqa: S608 - test's own name
        ).fetchone()
    return int(row[0])


async def test_concurrent_receipts_and_attempts_share_transactions(
    postgres_journal: PostgresJournal, postgres_url: str,
) -> None:
    signals = [queued_signal(f"S{n}/USDT") for n in range(50)]
    await asyncio.gather(*(postgres_journal.record(signal) for signal in signals))
    await asyncio.gather(*(postgres_journal.start_attempt(s.id, time.time()) for s in signals))
    # Without group commit, 50 of each.
    assert transactions_that_wrote(postgres_url, "signals") <= 2
    assert transactions_that_wrote(postgres_url, "attempts") <= 2


async def test_a_write_the_server_refuses_fails_alone(postgres_journal: PostgresJournal) -> None:
    taken = queued_signal()
    await postgres_journal.record(taken)
    again = queued_signal().model_copy(update={"id": taken.id})  # the same id: refused
    fine = queued_signal()
    outcomes = await asyncio.gather(postgres_journal.record(again), postgres_journal.record(fine),
                                    return_exceptions=True)
    assert isinstance(outcomes[0], JournalError)
    assert await postgres_journal.get(fine.id) is not None


async def test_a_start_without_the_lease_fails_alone_in_its_batch(
    postgres_journal: PostgresJournal,
) -> None:
    mine, theirs = queued_signal(), queued_signal("ETH/USDT")
    for signal in (mine, theirs):
        await postgres_journal.record(signal.model_copy(update={"lease": Lease("here", 30)}))
    started = await asyncio.gather(
        postgres_journal.start_attempt(mine.id, time.time(), owner="here"),
        postgres_journal.start_attempt(theirs.id, time.time(), owner="elsewhere"),
        return_exceptions=True,
    )
    assert started[0] == 1 and isinstance(started[1], LeaseLost)
    record = await postgres_journal.get(theirs.id)
    assert record is not None
    assert (record.status, record.attempts) == (SignalStatus.QUEUED, [])


async def test_two_processes_storing_into_empty_lanes_at_once_lease_one_per_lane(
    postgres_url: str,
) -> None:
    receivers = [PostgresJournal(postgres_url) for _ in range(2)]
    for receiver in receivers:
        await receiver.open()
    try:
        symbols = [f"S{n}/USDT" for n in range(20)]
        asks = [(receiver, queued_signal(symbol).model_copy(
                    update={"lease": Lease(f"host-{n}", 30)}))
                for symbol in symbols for n, receiver in enumerate(receivers)]
        stored = await asyncio.gather(*(receiver.record(signal) for receiver, signal in asks))
    finally:
        for receiver in receivers:
            await receiver.close()
    leased = [signal.order.symbol for (_, signal), answer in zip(asks, stored, strict=True)
              if answer.leased and signal.order]
    assert sorted(leased) == sorted(symbols)  # each lane leased once, to one of them
