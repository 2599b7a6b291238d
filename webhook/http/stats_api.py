"""`GET /api/stats?since=&until=`: how signals went in a period, from the journal.

The figures come from `webhook.observe.signal_stats`, over what `webhook.journal.period` reads:
the period's signals counted in the database and at most `FILLS_LIMIT` of its fills, newest
first, both bounded by the period on the primary key. An answer is kept `STATS_TTL` seconds per
`since`/`until` as written, so dashboards polling the same period share one read, and longer
when it was costly to make: at most `STATS_SHARE` of the server's time goes to stats, so a big
journal and an open dashboard leave the signal path as it was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from webhook.errors import PayloadError
from webhook.http.admin_api import require_admin
from webhook.journal import SignalJournal
from webhook.journal.period import FillRow, PeriodCount
from webhook.journal.since import parse_since
from webhook.observe.signal_stats import signal_stats

FILLS_LIMIT = 20_000
"""Fills read at most for one stats answer (the newest of the period)."""
STATS_TTL = 5.0
STATS_SHARE = 0.02
"""An answer that took `t` seconds to make is kept at least `t / STATS_SHARE` seconds."""
STATS_KEPT = 32
"""Periods whose answers are kept at once; the oldest goes first."""


def _moment(request: Request, name: str, now: float) -> float | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    try:
        return parse_since(text, now)
    except ValueError as exc:
        raise PayloadError(name, str(exc)) from exc


class StatsCache:
    """Answers by period, each kept `ttl` seconds; concurrent askers share one journal read."""

    def __init__(self, journal: SignalJournal, *, ttl: float = STATS_TTL,
                 share: float = STATS_SHARE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._journal = journal
        self._ttl = ttl
        self._share = share
        self._clock = clock
        self._kept: dict[tuple[str | None, str | None], tuple[float, bytes]] = {}
        """By period: until when (on `clock`) the answer is fresh, and the answer."""
        self._reading: dict[tuple[str | None, str | None], asyncio.Task[bytes]] = {}

    async def answer(self, key: tuple[str | None, str | None], since: float | None,
                     until: float | None) -> bytes:
        kept = self._kept.get(key)
        if kept is not None and self._clock() < kept[0]:
            return kept[1]
        task = self._reading.get(key)
        if task is None:
            task = asyncio.create_task(self._read(key, since, until))
            self._reading[key] = task
            task.add_done_callback(lambda _t: self._reading.pop(key, None))
        return await asyncio.shield(task)

    async def _read(self, key: tuple[str | None, str | None], since: float | None,
                    until: float | None) -> bytes:
        started = self._clock()
        counts = await self._journal.period_counts(since, until)
        newest_first = await self._journal.period_fills(since, until, limit=FILLS_LIMIT)
        # Some 100 ms of CPU for a full answer: off the event loop, which goes on receiving.
        body = await asyncio.to_thread(_answer, counts, newest_first, since, until)
        if len(self._kept) >= STATS_KEPT:
            self._kept.pop(next(iter(self._kept)))
        finished = self._clock()
        self._kept[key] = (finished + max(self._ttl, (finished - started) / self._share), body)
        return body


def _answer(counts: list[PeriodCount], newest_first: list[FillRow], since: float | None,
            until: float | None) -> bytes:
    stats = signal_stats(counts, newest_first[::-1], since=since, until=until,
                         truncated=len(newest_first) >= FILLS_LIMIT)
    return stats.model_dump_json().encode()


async def stats(request: Request) -> Response:
    services = await require_admin(request)
    now = time.time()
    since, until = _moment(request, "since", now), _moment(request, "until", now)
    if since is not None and until is not None and until <= since:
        raise PayloadError("until", "until must be later than since")
    cache = getattr(request.app.state, "stats_cache", None)
    if cache is None:
        cache = StatsCache(services.journal)
        request.app.state.stats_cache = cache
    key = (request.query_params.get("since"), request.query_params.get("until"))
    body = await cache.answer(key, since, until)
    return Response(body, media_type="application/json")
