from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from webhook.journal import SqliteJournal


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    """A fresh SQLite journal, opened."""
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    yield store
    await store.close()
