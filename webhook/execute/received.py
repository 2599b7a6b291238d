"""What an executor remembers of the signals handed to it that are not final yet: their ids by
lane in arrival order, which of them wait for a claim, and the whole jobs of the first few.

A backlog costs little memory: whole jobs are kept for at most `MAX_JOBS_HELD` of the signals
received without a lease and only the ids of the rest (a signal handed on whose job was not kept
is read back from the journal); at most `MAX_REMEMBERED` ids are kept at all, oldest forgotten
first, since signals another executor ran never come back here (they are also forgotten as the
journal shows them ended: `Executor`'s claim rounds ask). Nothing is decided from these: a
position limit counts the journal's pending orders.
"""

from __future__ import annotations

from collections.abc import Iterator, KeysView

from webhook.execute.attempts import ExecutionJob

MAX_REMEMBERED = 100_000
"""Ids of signals received here and not final yet, kept for the executor's `backlog`."""
MAX_JOBS_HELD = 1_000
"""Whole jobs kept of signals received here without a lease, so that a hand-on runs the next
one without reading the journal. Past this many, under a backlog, only their ids are kept
(about 200 bytes each, not an order's 1.5 KB) and a hand-on reads its signal back."""


class _LaneIds(dict[str, None]):
    """The ids of one lane's signals received here, in arrival order, and the lane: each id
    points at this one object instead of a (plugin, symbol) of its own."""

    __slots__ = ("lane",)

    def __init__(self, lane: tuple[str, str]) -> None:
        super().__init__()
        self.lane = lane


class ReceivedSignals:
    def __init__(self) -> None:
        self._lane_of: dict[str, _LaneIds] = {}
        """Signal id -> its lane's ids, of every signal received here not final yet."""
        self._lanes: dict[tuple[str, str], _LaneIds] = {}
        self._jobs: dict[str, ExecutionJob] = {}
        """The first `MAX_JOBS_HELD` of those received without a lease, whole."""
        self.awaiting_claim: set[str] = set()
        """Signals received here without a lease: a claim (or a hand-on) must take them."""

    def add(self, job: ExecutionJob) -> None:
        """Remember a signal handed over; one without a lease also waits for a claim."""
        lane = (job.plugin, job.order.symbol)
        ids = self._lanes.get(lane)
        if ids is None:
            ids = self._lanes[lane] = _LaneIds(lane)
        ids[job.signal_id] = None
        self._lane_of[job.signal_id] = ids
        if len(self._lane_of) > MAX_REMEMBERED:
            self.forget(next(iter(self._lane_of)))
        if job.leased:
            return
        if len(self._jobs) < MAX_JOBS_HELD:
            self._jobs[job.signal_id] = job
        self.awaiting_claim.add(job.signal_id)

    def forget(self, signal_id: str) -> None:
        ids = self._lane_of.pop(signal_id, None)
        self._jobs.pop(signal_id, None)
        self.awaiting_claim.discard(signal_id)
        if ids is not None:
            ids.pop(signal_id, None)
            if not ids:
                self._lanes.pop(ids.lane, None)

    def take_job(self, signal_id: str) -> ExecutionJob | None:
        """The whole job of a signal received without a lease, if it was kept."""
        return self._jobs.pop(signal_id, None)

    def ids(self) -> KeysView[str]:
        return self._lane_of.keys()

    def plugin_of(self, signal_id: str) -> str | None:
        ids = self._lane_of.get(signal_id)
        return ids.lane[0] if ids is not None else None

    def in_lane(self, plugin: str, symbol: str) -> Iterator[str]:
        """The lane's signals received here, in arrival order."""
        return iter(self._lanes.get((plugin, symbol), ()))

    @property
    def jobs_held(self) -> int:
        return len(self._jobs)

    def clear(self) -> None:
        self._lane_of.clear()
        self._lanes.clear()
        self._jobs.clear()
        self.awaiting_claim.clear()
