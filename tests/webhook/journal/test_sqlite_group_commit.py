"""The SQLite journal's group commit: a batch whose jobs all succeed runs them without a
savepoint each; when one fails, it alone is rolled back and the others commit, each once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import pytest

from tests.webhook.journal.test_sqlite_receipt_statements import traced
from webhook.journal import SqliteJournal, group_commit

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
