"""Repeats without an id: the same body from the same source within a few seconds.

Alerts that carry no idempotency key (no `webhook-id`, no `id`, no `order_id` with `time`) can
still be de-duplicated per source by their body, when the source sets `dedup_seconds`. The
window lives in this receiver's memory: behind several receivers, a repeat that reaches
another one is not recognised.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable


class RepeatWindow:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: OrderedDict[tuple[str, bytes], tuple[float, str]] = OrderedDict()
        """(source, body digest) -> (when it stops counting, first signal id), oldest first."""

    def first(self, source: str, body: bytes) -> str | None:
        """The id of the signal this body repeats, if it came within its source's window."""
        now = self._clock()
        while self._seen:
            oldest_key, (until, _) = next(iter(self._seen.items()))
            if until >= now:
                break
            del self._seen[oldest_key]
        seen = self._seen.get((source, _digest(body)))
        return seen[1] if seen is not None and seen[0] >= now else None

    def remember(self, source: str, body: bytes, signal_id: str, seconds: float) -> None:
        key = (source, _digest(body))
        self._seen.pop(key, None)
        self._seen[key] = (self._clock() + seconds, signal_id)


def _digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()
