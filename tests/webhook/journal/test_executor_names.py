"""An executor's name is held by one live process at a time on a journal, on both back ends:
leases are held by name, and two executors of one name would each take the other's signals for
their own. A process that dies lets its names go."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psycopg
import pytest

from tests.webhook.journal.conftest import opened
from webhook.errors import NameTaken
from webhook.journal import SignalJournal, open_journal, postgres_names

pytestmark = pytest.mark.anyio


async def test_a_name_is_held_by_one_journal_at_a_time(
    journal: SignalJournal, journal_url: str,
) -> None:
    await journal.hold_name("executor-1")
    async with opened(open_journal(journal_url)) as other:  # as another process would
        with pytest.raises(NameTaken, match="executor-1"):
            await other.hold_name("executor-1")
        await other.hold_name("executor-2")  # another name is free
        await journal.release_name("executor-1")
        await other.hold_name("executor-1")  # let go: taken at once


async def test_one_journal_does_not_hold_a_name_twice(journal: SignalJournal) -> None:
    await journal.hold_name("executor-1")
    with pytest.raises(NameTaken):
        await journal.hold_name("executor-1")


async def test_closing_the_journal_lets_its_names_go(journal_url: str) -> None:
    async with opened(open_journal(journal_url)) as first:
        await first.hold_name("executor-1")
    async with opened(open_journal(journal_url)) as second:
        await second.hold_name("executor-1")


def name_held_elsewhere(journal_url: str) -> subprocess.Popen[str]:
    """Another process that holds the name `executor-1` on the journal, once it says so."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import asyncio
        from webhook.journal import open_journal
        async def main():
            journal = open_journal({journal_url!r})
            await journal.open()
            await journal.hold_name("executor-1")
            print("held", flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """)], stdout=subprocess.PIPE, encoding="utf-8")
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


async def test_a_killed_process_lets_its_name_go(journal: SignalJournal, journal_url: str) -> None:
    holder = name_held_elsewhere(journal_url)
    try:
        with pytest.raises(NameTaken):
            await journal.hold_name("executor-1")
    finally:
        holder.kill()  # as kill -9: nothing of it runs to let the name go
        holder.wait()
    await journal.hold_name("executor-1")


async def test_a_lock_query_that_fails_closes_its_connection(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    connections: list[psycopg.AsyncConnection[tuple[object, ...]]] = []

    async def connect() -> psycopg.AsyncConnection[tuple[object, ...]]:
        connection = await psycopg.AsyncConnection.connect(postgres_url, autocommit=True)
        connections.append(connection)
        return connection

    monkeypatch.setattr(postgres_names, "_TRY_LOCK", "SELECT no_such_function(%s)")
    locks = postgres_names.NameLocks(connect, lambda text: text)
    with pytest.raises(NameTaken, match="cannot take the executor name 'executor-1'"):
        await locks.hold("executor-1")
    assert len(connections) == 1 and connections[0].closed
