"""Circuit breakers: stop hammering a broker that is down; signals wait, they are not dropped.

After `failures` consecutive failed attempts (temporary errors, unknown outcomes) on one
plugin, its breaker opens: nothing is sent to it for `cooldown` seconds. Then it is half open:
one request goes through as a probe (`take_probe`) while every other signal keeps waiting; its
success closes the breaker, its failure opens it again for another cooldown. A probe that
failed is the breaker's, not its signal's: the signal is not charged for it.
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
    probing: bool = False


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

    def take_probe(self, plugin: str) -> bool:
        """While half open: True for the one caller that may send the probe, False for the
        others (they wait until the probe has ended)."""
        breaker = self._breakers.get(plugin)
        if breaker is None or self.state(plugin) is not BreakerState.HALF_OPEN:
            return False
        if breaker.probing:
            return False
        breaker.probing = True
        return True

    def probe_ended(self, plugin: str) -> None:
        """The probe's holder stopped without a verdict (a bug, a cancelled task)."""
        breaker = self._breakers.get(plugin)
        if breaker is not None:
            breaker.probing = False

    def waiting_plugins(self) -> set[str]:
        """Plugins whose signals are held back now: open, or half open with a probe out."""
        return {name for name, breaker in self._breakers.items()
                if self.state(name) is BreakerState.OPEN
                or (self.state(name) is BreakerState.HALF_OPEN and breaker.probing)}

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
        breaker.probing = False
