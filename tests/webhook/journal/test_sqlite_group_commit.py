"""The SQLite journal's group commit: a batch whose jobs all succeed runs them without a
savepoint each; when one fails, it alone is rolled back and the others commit, each once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from plugins.orders import ExecutionResult
from tests.webhook.journal.journal_helpers import queued_signal
from tests.webhook.journal.test_sqlite_receipt_statements import traced
from webhook.journal import Lease, SignalStatus, SqliteJournal, group_commit
from webhook.journal import sqlite as sqlite_module

pytestmark = pytest.mark.anyio


Job = Callable[[sqlite3.Connection], object]


def inserting(name: str, *, then_fail: bool = False) -> Job:
    def job(connection: sqlite3.Connection) -> str:
        connection.execute("INSERT INTO scratch (name) VALUES (?)", (name,))
        if then_fail:
            raise ValueError(f"{name} fails after its insert")
        return name

    return job


async def batch_of(journal: SqliteJournal, *jobs: Job) -> list[object]:
    writer = journal._writer  # noqa: SLF001 - its batches are what is tested
    return await asyncio.gather(*(writer.run(job) for job in jobs), return_exceptions=True)


@pytest.fixture
async def scratch(sqlite_journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch
                  ) -> SqliteJournal:
    await sqlite_journal._writer.run(  # noqa: SLF001
        lambda c: c.execute("CREATE TABLE scratch (name TEXT NOT NULL)"))
    # Every write queues for the flusher, none commits alone on the loop: writes gathered
    # together make one batch.
    monkeypatch.setattr(group_commit, "IDLE_GAP", float("inf"))
    return sqlite_journal


async def names(journal: SqliteJournal) -> list[str]:
    rows = await journal._writer.run(  # noqa: SLF001
        lambda c: c.execute("SELECT name FROM scratch ORDER BY rowid").fetchall())
    return [row[0] for row in rows]


async def test_a_batch_whose_jobs_succeed_runs_no_savepoint(scratch: SqliteJournal) -> None:
    seen = traced(scratch)
    assert await batch_of(scratch, inserting("a"), inserting("b"), inserting("c")) == [
        "a", "b", "c"]
    assert [s.split()[0] for s in seen] == ["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]
    assert await names(scratch) == ["a", "b", "c"]


async def test_a_failing_job_rolls_back_alone_and_the_others_commit_once(
    scratch: SqliteJournal,
) -> None:
    seen = traced(scratch)
    outcomes = await batch_of(scratch, inserting("a"), inserting("b", then_fail=True),
                              inserting("c"))
    assert outcomes[0] == "a" and outcomes[2] == "c"
    assert isinstance(outcomes[1], ValueError)
    assert await names(scratch) == ["a", "c"]  # b's insert is gone, a's is not there twice
    first_words = [s.split()[0] for s in seen]
    assert "ROLLBACK" in first_words and first_words.count("SAVEPOINT") == 3


async def test_a_job_whose_statement_fails_fails_alone(scratch: SqliteJournal) -> None:
    def broken(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO scratch (name) VALUES (NULL)")  # NOT NULL

    outcomes = await batch_of(scratch, inserting("a"), broken, inserting("c"))
    assert outcomes[0] == "a" and outcomes[2] == "c"
    assert type(outcomes[1]).__name__ == "JournalError"
    assert await names(scratch) == ["a", "c"]
    assert await scratch.healthy()


# A write that may wait for company: it goes with the next batch another write starts, or
# alone once its wait is over; a journal that closes takes it with the last batch.


def commits(seen: list[str]) -> int:
    return sum(1 for statement in seen if statement.startswith("COMMIT"))


async def test_a_write_that_may_wait_goes_with_the_next_batch(scratch: SqliteJournal) -> None:
    writer = scratch._writer  # noqa: SLF001
    seen = traced(scratch)
    waiting = asyncio.ensure_future(writer.run(inserting("patient"), within=30))
    await asyncio.sleep(0.1)
    assert not waiting.done() and commits(seen) == 0
    assert await writer.run(inserting("prompt")) == "prompt"
    assert await waiting == "patient"
    assert commits(seen) == 1
    assert await names(scratch) == ["patient", "prompt"]


async def test_a_write_that_may_wait_goes_alone_once_its_wait_is_over(
    scratch: SqliteJournal,
) -> None:
    writer = scratch._writer  # noqa: SLF001
    seen = traced(scratch)
    waiting = asyncio.ensure_future(writer.run(inserting("patient"), within=0.3))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    assert await asyncio.wait_for(waiting, timeout=5) == "patient"
    assert commits(seen) == 1


async def test_a_write_that_waits_after_an_earlier_one_has_gone_keeps_its_own_wait(
    scratch: SqliteJournal,
) -> None:
    """The first waiting write leaves with the next batch; its long wait must not become the
    wait of one queued after it."""
    writer = scratch._writer  # noqa: SLF001
    first = asyncio.ensure_future(writer.run(inserting("patient"), within=30))
    await asyncio.sleep(0.05)
    assert await writer.run(inserting("prompt")) == "prompt"
    assert await first == "patient"
    later = asyncio.ensure_future(writer.run(inserting("later"), within=0.2))
    assert await asyncio.wait_for(later, timeout=5) == "later"


async def test_closing_the_journal_commits_a_write_that_waits(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    await journal.open()
    writer = journal._writer  # noqa: SLF001
    await writer.run(lambda c: c.execute("CREATE TABLE scratch (name TEXT NOT NULL)"))
    waiting = asyncio.ensure_future(writer.run(inserting("patient"), within=30))
    await asyncio.sleep(0.05)
    await journal.close()
    assert waiting.done() and waiting.result() == "patient"
    with sqlite3.connect(tmp_path / "journal.db") as check:
        assert check.execute("SELECT name FROM scratch").fetchall() == [("patient",)]


async def test_only_a_final_status_that_hands_nothing_on_waits_for_company(
    sqlite_journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status the lane's next send waits for (its hand-on), or one that is not final,
    commits at once; a final one that hands nothing on may wait `FINAL_STATUS_WAIT`."""
    monkeypatch.setattr(sqlite_module, "FINAL_STATUS_WAIT", 30.0)
    journal = sqlite_journal
    first, second = queued_signal(), queued_signal()
    for signal in (first, second):
        await journal.record(signal)
    one = await journal.start_attempt(first.id, 1.0)
    await asyncio.wait_for(journal.finish_attempt(
        first.id, one, outcome="temporary", status=SignalStatus.QUEUED, error="busy"), 5)
    two = await journal.start_attempt(first.id, 2.0)
    handing_on = journal.finish_attempt(
        first.id, two, outcome="result", status=SignalStatus.FILLED,
        result=ExecutionResult(success=True, status="filled", order_id="B-1"),
        hand_on=Lease("here", 30))
    assert await asyncio.wait_for(handing_on, 5) is not None  # the second, leased to "here"
    attempt = await journal.start_attempt(second.id, 3.0, owner="here")
    last = asyncio.ensure_future(journal.finish_attempt(
        second.id, attempt, outcome="result", status=SignalStatus.FILLED,
        result=ExecutionResult(success=True, status="filled", order_id="B-2")))
    await asyncio.sleep(0.1)
    assert not last.done()
    await journal.record(queued_signal())  # the next write takes it along
    assert await asyncio.wait_for(last, 5) is None
    record = await journal.get(second.id)
    assert record is not None and record.status is SignalStatus.FILLED
