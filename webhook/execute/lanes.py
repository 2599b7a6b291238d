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

A lane whose running job ended unsettled (still pending under this executor's lease) is
stopped (`StoppedLanes`): the jobs that waited behind it are given back to the journal, their
attempts withdrawn and their leases released, so that a claim runs them after it; until a claim
runs it again, a job leased behind it is given back too.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections import deque
from collections.abc import Callable

from webhook.errors import JournalError
from webhook.execute.attempts import ExecutionJob
from webhook.journal import SignalJournal

logger = logging.getLogger("tradehook.executor")

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


class StoppedLanes:
    """Lanes whose job ended unsettled, and the leased jobs given back from them."""

    def __init__(self, journal: SignalJournal, owner: str, *, lease_seconds: float,
                 returned: Callable[[], None]) -> None:
        self._journal = journal
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._returned = returned
        """Called once a give-back is committed (or failed): a claim may run the lane now."""
        self._giving_back: dict[str, asyncio.Task[None]] = {}
        """Jobs being given back -> the task that gives them back."""
        self._stalled: dict[Lane, float] = {}
        """Lanes whose job ended unsettled -> when its lease lapses (monotonic): until a claim
        runs it again, a job leased behind it is given back, not run ahead of it."""
        self._returning: collections.Counter[Lane] = collections.Counter()
        """Lanes with jobs being given back: until that is committed, a job leased behind them
        is given back too (it must not overtake them)."""

    def blocks(self, lane: Lane) -> bool:
        """Whether a job leased into `lane` must be given back rather than run or wait."""
        return bool(self._returning[lane]) or self._stalled.get(lane, 0.0) > time.monotonic()

    def stall(self, lane: Lane) -> None:
        """The lane's job ended still pending under this executor's lease: stalled for a
        lease's length from now, no less than that lease has left."""
        self._stalled[lane] = time.monotonic() + self._lease_seconds

    def resume(self, lane: Lane) -> None:
        """A claim runs the lane's head again."""
        self._stalled.pop(lane, None)

    def gives_back(self, signal_id: str) -> bool:
        return signal_id in self._giving_back

    def give_back(self, jobs: list[ExecutionJob]) -> None:
        """Withdraw the attempts opened for these leased jobs and release their leases, so that
        claims run them after the pending job they waited behind."""
        if not jobs:
            return
        task = asyncio.create_task(self._return_to_journal(jobs), name="give leases back")
        for job in jobs:
            self._giving_back[job.signal_id] = task
            self._returning[lane_of(job)] += 1

    async def given_back(self) -> None:
        """Wait for every give-back under way (on stop)."""
        await asyncio.gather(*self._giving_back.values(), return_exceptions=True)

    async def _return_to_journal(self, jobs: list[ExecutionJob]) -> None:
        unsent = {job.signal_id: job.attempt for job in jobs if job.attempt is not None}
        try:
            if unsent:
                await self._journal.withdraw_attempts(unsent)
            await self._journal.release(self._owner, [job.signal_id for job in jobs])
        except JournalError as exc:  # their leases lapse; a claim asks the broker first
            logger.warning("cannot give back the signals of a stopped lane: %s", exc)
        finally:
            for job in jobs:
                self._giving_back.pop(job.signal_id, None)
                self._returning[lane_of(job)] -= 1
            self._returning += collections.Counter()  # drops the lanes at zero
            self._returned()
