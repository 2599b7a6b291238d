"""The lanes an executor holds: a (plugin, symbol) whose job runs or waits for a slot here, and
the leased jobs of each that wait behind it, in the order they were stored.

A lane has at most one job at the broker at a time. A receipt into a lane this executor holds is
leased to it in the receipt's transaction with its attempt opened there (`Lease.joins_lane`,
`Lease.ahead`: at most `LANE_AHEAD` a lane, and only for a plugin whose lookups tell an unsent
order), and waits here; the next one runs as soon as the running one is settled at the broker
(its final status decided), while that status is still being committed. Exactly once still
holds: each waiting job's attempt was opened in its receipt's transaction, so every send follows
a durable attempt start under a held lease. If the process dies after the next send and before
the previous final status is on disk, both signals are `executing` with an attempt, and a
restart asks the broker for each by client order id before anything is sent.
"""

from __future__ import annotations

from collections import deque

from webhook.execute.attempts import ExecutionJob

Lane = tuple[str, str]


def lane_of(job: ExecutionJob) -> Lane:
    return (job.plugin, job.order.symbol)


class HeldLanes:
    def __init__(self) -> None:
        self._held: set[Lane] = set()
        """Lanes with a job running here and not settled yet, or waiting for a slot."""
        self._waiting: dict[Lane, deque[ExecutionJob]] = {}
        self._waiting_ids: set[str] = set()

    def holds(self, lane: Lane) -> bool:
        return lane in self._held

    def hold(self, lane: Lane) -> None:
        self._held.add(lane)

    def wait(self, job: ExecutionJob) -> None:
        """Queue a leased job behind its lane's running one."""
        self._waiting.setdefault(lane_of(job), deque()).append(job)
        self._waiting_ids.add(job.signal_id)

    def waits(self, signal_id: str) -> bool:
        return signal_id in self._waiting_ids

    def has_next(self, lane: Lane) -> bool:
        return lane in self._waiting

    def next(self, lane: Lane) -> ExecutionJob | None:
        """The lane's running job is settled: the job to run next, which holds the lane now;
        None (and the lane is free) when none waits."""
        waiting = self._waiting.get(lane)
        if not waiting:
            self._held.discard(lane)
            return None
        job = waiting.popleft()
        if not waiting:
            del self._waiting[lane]
        self._waiting_ids.discard(job.signal_id)
        return job

    def release(self, lane: Lane) -> list[ExecutionJob]:
        """Free the lane whose running job ended without settling; the jobs that waited behind
        it, to give back to the journal (they must not overtake it)."""
        self._held.discard(lane)
        left = list(self._waiting.pop(lane, ()))
        self._waiting_ids.difference_update(job.signal_id for job in left)
        return left

    def waiting_ids(self) -> set[str]:
        return set(self._waiting_ids)

    def drain(self) -> list[ExecutionJob]:
        """Every waiting job (on stop), each lane freed."""
        left = [job for waiting in self._waiting.values() for job in waiting]
        self._held.clear()
        self._waiting.clear()
        self._waiting_ids.clear()
        return left
