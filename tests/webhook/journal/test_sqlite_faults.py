"""The SQLite journal when its file cannot be written (a read-only or full disk): every write
fails whole, nothing half-written stays, and writes succeed again as soon as they can, with no
reopening by hand. (A real full disk is filled end to end in tests/e2e/test_journal_faults.py.)
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from webhook.errors import JournalError
from webhook.journal import SqliteJournal

pytestmark = pytest.mark.anyio


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    yield store
    await store.close()


def make_read_only(journal: SqliteJournal, read_only: bool) -> None:
    """What a disk remounted read-only does to every write: SQLITE_READONLY."""
    connection = journal._writer._connection  # noqa: SLF001 - the journal's one connection
    assert connection is not None
    connection.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")


async def test_writes_fail_whole_while_the_file_is_read_only_then_work_again(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    kept = queued_signal()
    await journal.record(kept)
    make_read_only(journal, True)
    refused = queued_signal()
    with pytest.raises(JournalError, match="readonly"):
        await journal.record(refused)
    assert not await journal.healthy()  # a load balancer sees it

    make_read_only(journal, False)
    assert await journal.healthy()
    again = queued_signal()
    await journal.record(again)
    assert await journal.get(refused.id) is None  # nothing half-written
    assert {s.id for s in await journal.list_signals()} == {kept.id, again.id}
    with sqlite3.connect(tmp_path / "journal.db") as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]



async def test_a_commit_that_writes_nothing_leaves_the_journal_failing(
    journal: SqliteJournal,
) -> None:
    connection = journal._writer._connection  # noqa: SLF001 - the journal's one connection
    assert connection is not None
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count={pages}")  # a full disk: no page more
    with pytest.raises(JournalError):
        await journal.record(queued_signal().model_copy(update={"raw_body": b"x" * 200_000}))
    assert journal._writer.failing is not None  # noqa: SLF001
    # An executor's claim that finds nothing to claim commits on a full disk too, and says
    # nothing about whether a write would be stored.
    await journal._writer.run(lambda c: c.execute("SELECT 1").fetchone())  # noqa: SLF001
    assert journal._writer.failing is not None  # noqa: SLF001
    await journal.record(queued_signal())  # a write that fits: the journal takes writes again
    assert journal._writer.failing is None  # noqa: SLF001


async def test_a_reopened_connection_that_cannot_be_set_up_fails_its_batch_and_the_next_works(
    journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a rollback that failed, the next batch opens a new connection; should setting it
    up for the journal's durability fail, that batch fails (503), and the one after opens
    another, rather than the writer stopping with every later write left waiting."""
    writer = journal._writer  # noqa: SLF001 - its connection is what is reopened
    durability = writer._durability  # noqa: SLF001
    set_up = durability.opened
    refusals = [sqlite3.OperationalError("disk I/O error")]

    def opened(connection: sqlite3.Connection) -> None:
        if refusals:
            raise refusals.pop()
        set_up(connection)

    monkeypatch.setattr(durability, "opened", opened)
    old = writer._connection  # noqa: SLF001
    assert old is not None
    old.close()
    writer._connection = None  # noqa: SLF001 - as `_rolled_back` leaves it
    with pytest.raises(JournalError, match="disk I/O error"):
        await asyncio.wait_for(journal.record(queued_signal()), 5)
    stored = queued_signal()
    assert (await asyncio.wait_for(journal.record(stored), 5)).duplicate is False
    assert writer._connection is not None  # noqa: SLF001


async def test_a_journal_whose_connection_cannot_be_set_up_does_not_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteJournal(tmp_path / "journal.db")
    durability = store._writer._durability  # noqa: SLF001

    def opened(connection: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(durability, "opened", opened)
    with pytest.raises(JournalError, match="cannot open the journal: disk I/O error"):
        await store.open()
    assert durability.syncer is None or durability.syncer.pid is None  # its helper ended
