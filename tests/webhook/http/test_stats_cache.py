"""`StatsCache`: dashboards asking for the same period at once share one journal read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from webhook.http.stats_api import StatsCache
from webhook.journal import SqliteJournal
from webhook.journal.period import FillRow

pytestmark = pytest.mark.anyio


class CountingJournal(SqliteJournal):
    reads = 0

    async def period_fills(self, since: float | None, until: float | None, *, limit: int
                           ) -> list[FillRow]:
        self.reads += 1
        await asyncio.sleep(0.02)  # a read that takes a while: the others arrive meanwhile
        return await super().period_fills(since, until, limit=limit)


async def test_one_read_per_period_and_ttl_however_many_ask(tmp_path: Path) -> None:
    journal = CountingJournal(tmp_path / "j.db")
    await journal.open()
    now = [0.0]
    cache = StatsCache(journal, ttl=5, clock=lambda: now[0])
    try:
        answers = await asyncio.gather(*(cache.answer(("24h", None), None, None)
                                         for _ in range(10)))
        assert journal.reads == 1 and len(set(answers)) == 1
        await cache.answer(("7d", None), None, None)
        assert journal.reads == 2  # another period is another read
        now[0] += 4.9
        await cache.answer(("24h", None), None, None)
        assert journal.reads == 2
        now[0] += 0.2
        await cache.answer(("24h", None), None, None)
        assert journal.reads == 3
    finally:
        await journal.close()


class SlowJournal(SqliteJournal):
    """A journal whose fills read moves the test's clock on by `cost` seconds."""

    reads = 0
    cost = 0.0
    clock: list[float]

    async def period_fills(self, since: float | None, until: float | None, *, limit: int
                           ) -> list[FillRow]:
        self.reads += 1
        self.clock[0] += self.cost
        return await super().period_fills(since, until, limit=limit)


async def test_a_costly_answer_is_kept_longer_so_stats_take_a_bounded_share(
    tmp_path: Path,
) -> None:
    journal = SlowJournal(tmp_path / "j.db")
    await journal.open()
    now = [0.0]
    journal.clock, journal.cost = now, 0.5  # half a second to make: kept 0.5 / 0.02 = 25 s
    cache = StatsCache(journal, ttl=5, share=0.02, clock=lambda: now[0])
    try:
        await cache.answer(("24h", None), None, None)
        now[0] += 24.0
        await cache.answer(("24h", None), None, None)
        assert journal.reads == 1  # a 5 s ttl alone would have read again
        now[0] += 1.1
        await cache.answer(("24h", None), None, None)
        assert journal.reads == 2
    finally:
        await journal.close()
