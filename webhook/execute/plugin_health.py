"""Plugin health that costs the broker nothing extra: one check at a time, its answer kept for
a few seconds.

`/ready`, `/metrics` and `GET /api/plugins` may be asked as often as anyone likes; each plugin's
health check (an exchange call under its rate limit, or a turn on the worker thread that places
orders for mt5 and NinjaTrader) runs at most once per `ttl` seconds, and callers that arrive
while one runs wait for that same check instead of starting another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from plugins.registry import PluginRegistry

HEALTH_TTL_SECONDS = 5.0
HEALTH_TIMEOUT_SECONDS = 2.0


class PluginHealth:
    def __init__(
        self,
        registry: PluginRegistry,
        *,
        ttl: float = HEALTH_TTL_SECONDS,
        timeout: float = HEALTH_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._last: dict[str, bool] | None = None
        self._checked_at = 0.0
        self._running: asyncio.Task[dict[str, bool]] | None = None

    async def get(self) -> dict[str, bool]:
        """Each plugin's health, at most `ttl` seconds old."""
        if self._last is not None and self._clock() - self._checked_at < self._ttl:
            return dict(self._last)
        if self._running is None:
            self._running = asyncio.create_task(self._check())
        # shield: a caller that gives up (a client that left) does not cancel the others' check.
        return dict(await asyncio.shield(self._running))

    async def _check(self) -> dict[str, bool]:
        try:
            found = await self._registry.health_check_all(per_plugin_timeout=self._timeout)
            self._last, self._checked_at = found, self._clock()
            return found
        finally:
            self._running = None
