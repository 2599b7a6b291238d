"""Sliding one-minute windows of accepted signals, for `max_signals_per_minute`.

Kept in memory: after a restart the count starts from zero.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

WINDOW_SECONDS = 60.0


class RateWindows:
    def __init__(self) -> None:
        self._windows: dict[str, deque[float]] = {}

    def count(self, key: str, now: float) -> int:
        """Signals accepted under `key` in the minute before `now`."""
        window = self._windows.get(key)
        if window is None:
            return 0
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        return len(window)

    def reserve(self, keys: Iterable[str], now: float) -> Reservation:
        taken = []
        for key in keys:
            self._windows.setdefault(key, deque()).append(now)
            taken.append(key)
        return Reservation(self, taken, now)

    def _release(self, keys: list[str], stamp: float) -> None:
        for key in keys:
            window = self._windows.get(key)
            if window is not None and stamp in window:
                window.remove(stamp)


class Reservation:
    """Slots taken for a signal before it is stored; released if it is not accepted after all
    (a duplicate, or the journal failed)."""

    def __init__(self, windows: RateWindows, keys: list[str], stamp: float) -> None:
        self._windows = windows
        self._keys = keys
        self._stamp = stamp

    def release(self) -> None:
        self._windows._release(self._keys, self._stamp)
        self._keys = []
