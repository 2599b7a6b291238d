"""What the SQLite journal's receipt costs in statements: a signal leased as it is stored, its
first attempt opened with it, is written by its INSERT and its attempt's, after one look at its
lane (the lease and the `executing` status are in the INSERT, not updates after it). Each
statement is about 8 us of the event loop's time per signal (`bench.floor`)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from webhook.journal import Lease, SignalStatus, SqliteJournal

pytestmark = pytest.mark.anyio


def traced(journal: SqliteJournal) -> list[str]:
    """The statements the journal's writer runs from now on, first words only."""
    seen: list[str] = []
    connection = journal._writer._connection  # noqa: SLF001 - the one connection that writes
    assert isinstance(connection, sqlite3.Connection)
    connection.set_trace_callback(lambda sql: seen.append(" ".join(sql.split()[:3])))
    return seen


async def test_a_receipt_leased_with_its_attempt_is_one_insert_each(
    sqlite_journal: SqliteJournal,
) -> None:
    signal = queued_signal("BTC/USDT")
    signal = signal.model_copy(update={"lease": Lease("here", 30, starting=signal.id)})
    seen = traced(sqlite_journal)
    stored = await sqlite_journal.record(signal)
    assert stored.leased and stored.attempt == 1
    work = [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert [s.split()[0] for s in work] == ["SELECT", "INSERT", "INSERT"], seen
    record = await sqlite_journal.get(signal.id)
    assert record is not None and record.status is SignalStatus.EXECUTING
    assert [a.number for a in record.attempts] == [1] and record.attempts[0].finished_at is None
    # Leased as a lease would leave it: a claim by anyone else skips it.
    assert await sqlite_journal.claim("other", lease_seconds=30, limit=10) == []


async def test_a_receipt_leased_without_its_attempt_stays_queued(
    sqlite_journal: SqliteJournal,
) -> None:
    signal = queued_signal("BTC/USDT").model_copy(update={"lease": Lease("here", 30)})
    seen = traced(sqlite_journal)
    stored = await sqlite_journal.record(signal)
    assert stored.leased and stored.attempt is None
    assert [s.split()[0] for s in seen if s.startswith(("INSERT", "UPDATE"))] == ["INSERT"]
    record = await sqlite_journal.get(signal.id)
    assert record is not None and record.status is SignalStatus.QUEUED and not record.attempts
    assert await sqlite_journal.claim("other", lease_seconds=30, limit=10) == []
