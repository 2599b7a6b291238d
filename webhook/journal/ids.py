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
_RANDOM_BYTES = 10
_POOL_BYTES = 4096
"""The operating system's random bytes are read this many at a time: on the machines measured
(`bench/RESULTS.md`), a `getrandom` call in a busy server took about 16 us, the next one right
after it under 2 us, so one read serves about 400 ids."""
_lock = threading.Lock()
_last = (0, 0)
_pool = b""
_pool_at = 0


def _forget_pool() -> None:
    """After a fork, the child must not reuse the bytes its parent is drawing ids from."""
    global _pool, _pool_at, _last
    _pool, _pool_at, _last = b"", 0, (0, 0)


os.register_at_fork(after_in_child=_forget_pool)


def _random_bits() -> int:
    """79 random bits from the operating system's generator (call with `_lock` held)."""
    global _pool, _pool_at
    if _pool_at + _RANDOM_BYTES > len(_pool):
        _pool, _pool_at = os.urandom(_POOL_BYTES), 0
    chunk = _pool[_pool_at:_pool_at + _RANDOM_BYTES]
    _pool_at += _RANDOM_BYTES
    return int.from_bytes(chunk, "big") >> 1  # room to count up


def new_signal_id() -> str:
    """A ULID; monotonic within one process even within one millisecond."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, randomness = last_millis, last_random + 1
        else:
            randomness = _random_bits()
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
