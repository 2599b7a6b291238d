"""Wrong credentials slow their sender down: per client address, a few failures are free, then
each attempt waits, the wait doubling with every further failure (capped), until a success.

One `FailureThrottle` serves the dashboard's login and wrong bearer tokens on the admin API, so
guessing the admin token costs the same whichever door is tried. It is memory only, per
process, and forgets the oldest addresses beyond `max_addresses` (a flood of addresses cannot
grow it without bound).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from webhook.errors import TooManyAttempts

FREE_FAILURES = 5
FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 900.0
MAX_ADDRESSES = 10_000


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0


class FailureThrottle:
    def __init__(
        self,
        *,
        free_failures: int = FREE_FAILURES,
        first_wait: float = FIRST_WAIT_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free = free_failures
        self._first_wait = first_wait
        self._max_wait = max_wait
        self._max_addresses = max_addresses
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def check(self, address: str) -> None:
        """Raise `TooManyAttempts` (with its Retry-After) while `address` must wait."""
        record = self._records.get(address)
        if record is None:
            return
        left = record.blocked_until - self._clock()
        if left > 0:
            raise TooManyAttempts(
                "too many wrong admin tokens from this address; wait before trying again",
                retry_after=max(1, math.ceil(left)),
            )

    def failed(self, address: str) -> None:
        """Count a wrong credential from `address`."""
        record = self._records.pop(address, None) or _Record()
        record.failures += 1
        beyond = record.failures - self._free
        if beyond >= 0:
            wait = min(self._max_wait, self._first_wait * 2 ** min(beyond, 32))
            record.blocked_until = self._clock() + wait
        self._records[address] = record
        while len(self._records) > self._max_addresses:
            self._records.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """A right credential from `address` clears its failures."""
        self._records.pop(address, None)

    def failures(self, address: str) -> int:
        record = self._records.get(address)
        return record.failures if record else 0
