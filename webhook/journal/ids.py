"""Signal ids: ULIDs, 26 characters of Crockford base32 that sort by time.

They are short and plain enough to travel as a broker's client order id (Binance takes 36
characters of [A-Za-z0-9_.:/-], an MT5 comment 31), and sorting by id sorts by arrival.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = tuple(high + low for high in _ALPHABET for low in _ALPHABET)
"""Two characters for each 10-bit value: a ULID's 130 bits are 13 lookups."""
_SHIFTS = tuple(range(120, -1, -10))
_lock = threading.Lock()
_last = (0, 0)


def new_signal_id() -> str:
    """A ULID; monotonic within one process even within one millisecond."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, randomness = last_millis, last_random + 1
        else:
            randomness = int.from_bytes(os.urandom(10), "big") >> 1  # room to count up
        _last = (millis, randomness)
    value = (millis << 80) | randomness
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])


def first_id_at(moment: float) -> str:
    """The smallest id a signal received at `moment` (Unix seconds) or later can have: the ids of
    signals received earlier all sort below it, so a time bound becomes a bound on the primary
    key."""
    value = max(int(moment * 1000), 0) << 80
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])
