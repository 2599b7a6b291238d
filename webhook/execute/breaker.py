"""Circuit breakers: stop hammering a broker that is down; signals wait, they are not dropped.

After `failures` consecutive failed attempts (temporary errors, unknown outcomes) on one
plugin, its breaker opens: nothing is sent to it for `cooldown` seconds. Then it is half open:
attempts go through, and the first success closes it while another failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class _Breaker:
    failures: int = 0
    opened_at: float | None = None


class CircuitBreakers:
    def __init__(
        self, *, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._breakers: dict[str, _Breaker] = {}

    def state(self, plugin: str) -> BreakerState:
        breaker = self._breakers.get(plugin)
        if breaker is None or breaker.opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - breaker.opened_at < self._cooldown:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def seconds_until_half_open(self, plugin: str) -> float:
        breaker = self._breakers.get(plugin)
        if breaker is None or breaker.opened_at is None:
            return 0.0
        return max(0.0, breaker.opened_at + self._cooldown - self._clock())

    def open_plugins(self) -> set[str]:
        return {name for name in self._breakers if self.state(name) is BreakerState.OPEN}

    def states(self) -> dict[str, str]:
        return {name: self.state(name).value for name in self._breakers}

    def succeeded(self, plugin: str) -> None:
        self._breakers[plugin] = _Breaker()

    def failed(self, plugin: str) -> None:
        breaker = self._breakers.setdefault(plugin, _Breaker())
        breaker.failures += 1
        half_open = self.state(plugin) is BreakerState.HALF_OPEN
        if half_open or breaker.failures >= self._threshold:
            breaker.opened_at = self._clock()
