"""Journals of both back ends for the contract tests (PostgreSQL skips without a server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.journal import SignalJournal, SqliteJournal, open_journal


@pytest.fixture(params=["sqlite", "postgres"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a journal of each back end keeps its signals, empty for each test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.db'}"
    else:
        with scratch_schema() as url:
            yield url


@pytest.fixture
async def journal(journal_url: str) -> AsyncIterator[SignalJournal]:
    store = open_journal(journal_url)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def sqlite_journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    """A fresh SQLite journal, opened."""
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    yield store
    await store.close()
