"""Journals of both back ends for the contract tests (PostgreSQL skips without a server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.journal import SignalJournal, SqliteJournal, open_journal

if TYPE_CHECKING:
    from webhook.journal.postgres import PostgresJournal

Journal = TypeVar("Journal", bound=SignalJournal)


@asynccontextmanager
async def opened(store: Journal) -> AsyncIterator[Journal]:
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a journal of each back end keeps its signals, empty for each test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def journal(journal_url: str) -> AsyncIterator[SignalJournal]:
    async with opened(open_journal(journal_url)) as store:
        yield store


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL journal's URL whose tables go to a schema of their own."""
    with scratch_schema() as url:
        yield url


@pytest.fixture
async def postgres_journal(postgres_url: str) -> AsyncIterator[PostgresJournal]:
    """A fresh PostgreSQL journal, opened."""
    from webhook.journal.postgres import PostgresJournal  # psycopg only where PostgreSQL is

    async with opened(PostgresJournal(postgres_url)) as store:
        yield store


@pytest.fixture
async def sqlite_journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    """A fresh SQLite journal, opened."""
    async with opened(SqliteJournal(tmp_path / "journal.db")) as store:
        yield store
